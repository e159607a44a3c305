import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { Idempotent } from 'steadfast';
import { IdempotencyKey } from 'steadfast/nestjs';
import type { Order, PlaceOrder } from './order';
import { OrdersService } from './orders.service';
import { PlaceOrderPipe } from './place-order.pipe';

const ONE_DAY = 24 * 60 * 60 * 1_000;

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  // A client that did not hear back may send the same request again with the same Idempotency-Key:
  // for a day, it gets the first answer (the same order) and no second order is placed. The same
  // key with a different body is refused with 409 (IdempotencyConflictError). A request that failed
  // recorded nothing, so it may be sent again.
  @Post()
  @Idempotent({ key: (idempotencyKey: string) => idempotencyKey, ttl: ONE_DAY })
  async place(
    @IdempotencyKey() idempotencyKey: string,
    @Body(PlaceOrderPipe) request: PlaceOrder,
  ): Promise<Order> {
    void idempotencyKey; // the decorator's key: part of the arguments, so a different body is a conflict
    return this.orders.place(request);
  }

  @Get()
  list(): Order[] {
    return this.orders.all();
  }

  @Get(':id')
  find(@Param('id') id: string): Order {
    return this.orders.find(id);
  }
}
