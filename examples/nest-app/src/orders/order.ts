/** What a client sends to place an order. */
export interface PlaceOrder {
  readonly sku: string;
  readonly quantity: number;
}

export interface Order extends PlaceOrder {
  readonly id: string;
  readonly status: 'placed';
}
