import { Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { WarehouseClient } from '../warehouse/warehouse-client';
import type { Order, PlaceOrder } from './order';

@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>();

  constructor(private readonly warehouse: WarehouseClient) {}

  /** Places an order if the warehouse has the stock. Not idempotent by itself: each call is a new order. */
  async place(request: PlaceOrder): Promise<Order> {
    const available = await lastValueFrom(this.warehouse.stockOf(request.sku));
    if (available < request.quantity) {
      throw new UnprocessableEntityException(`only ${available} of ${request.sku} in stock`);
    }
    const order: Order = {
      id: `ord_${this.orders.size + 1}`,
      sku: request.sku,
      quantity: request.quantity,
      status: 'placed',
    };
    this.orders.set(order.id, order);
    return order;
  }

  find(id: string): Order {
    const order = this.orders.get(id);
    if (order === undefined) throw new NotFoundException(`no order ${id}`);
    return order;
  }

  all(): Order[] {
    return [...this.orders.values()];
  }
}
