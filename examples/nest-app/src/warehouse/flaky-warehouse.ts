import { GatewayTimeoutException, Injectable } from '@nestjs/common';

/** How the simulated warehouse behaves: always answers, fails every third call, or never answers. */
export type WarehouseMode = 'healthy' | 'flaky' | 'down';

/**
 * An in-process stand-in for a remote warehouse API. Its failures are what an HTTP client would
 * report for a remote service that timed out.
 */
@Injectable()
export class FlakyWarehouse {
  private mode: WarehouseMode = 'flaky';
  private readonly stock = new Map<string, number>([
    ['espresso-beans', 40],
    ['grinder', 3],
    ['kettle', 12],
  ]);
  /** calls received, whether they failed or not */
  calls = 0;

  setMode(mode: WarehouseMode): void {
    this.mode = mode;
  }

  currentMode(): WarehouseMode {
    return this.mode;
  }

  async stockOf(sku: string): Promise<number> {
    this.calls++;
    if (this.mode === 'down' || (this.mode === 'flaky' && this.calls % 3 === 0)) {
      throw new GatewayTimeoutException(`warehouse timed out (call ${this.calls})`);
    }
    return this.stock.get(sku) ?? 0;
  }
}
