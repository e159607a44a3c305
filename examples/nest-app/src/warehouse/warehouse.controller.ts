import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Put,
  UseGuards,
} from '@nestjs/common';
import { FlakyWarehouse, type WarehouseMode } from './flaky-warehouse';
import { LocalOnlyGuard } from './local-only.guard';
import { WarehouseClient } from './warehouse-client';

const MODES: readonly WarehouseMode[] = ['healthy', 'flaky', 'down'];

@Controller()
export class WarehouseController {
  constructor(
    private readonly client: WarehouseClient,
    private readonly warehouse: FlakyWarehouse,
  ) {}

  /** Stock of one article, read through the retrying, breaker-guarded client. */
  @Get('stock/:sku')
  async stock(@Param('sku') sku: string): Promise<{ sku: string; available: number }> {
    return { sku, available: await this.client.stockOf(sku) };
  }

  /** The demo's switch: `{"mode": "down"}` starts an outage, `"healthy"` or `"flaky"` ends it. */
  @Put('warehouse/mode')
  @HttpCode(204)
  @UseGuards(LocalOnlyGuard)
  setMode(@Body('mode') mode: WarehouseMode): void {
    if (!MODES.includes(mode))
      throw new BadRequestException(`mode must be one of ${MODES.join(', ')}`);
    this.warehouse.setMode(mode);
  }
}
