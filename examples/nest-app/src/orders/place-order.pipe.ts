import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { PlaceOrder } from './order';

/** Checks a POST /orders body: `{ "sku": string, "quantity": integer ≥ 1 }`, nothing else. */
@Injectable()
export class PlaceOrderPipe implements PipeTransform<unknown, PlaceOrder> {
  transform(value: unknown): PlaceOrder {
    const body = value as Partial<Record<string, unknown>> | null;
    if (typeof body !== 'object' || body === null)
      throw new BadRequestException('the body must be a JSON object');
    const { sku, quantity, ...rest } = body;
    if (typeof sku !== 'string' || sku === '')
      throw new BadRequestException('sku must be a non-empty string');
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)
      throw new BadRequestException('quantity must be an integer >= 1');
    if (Object.keys(rest).length > 0)
      throw new BadRequestException(`unknown field(s): ${Object.keys(rest).join(', ')}`);
    return { sku, quantity };
  }
}
