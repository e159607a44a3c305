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
import { map, type Observable } from 'rxjs';
import {
  FlakyWarehouseServer,
  WAREHOUSE_MODES,
  type WarehouseMode,
} from './flaky-warehouse-server';
import { LocalOnlyGuard } from './local-only.guard';
import { WarehouseClient } from './warehouse-client';

@Controller()
export class WarehouseController {
  constructor(
    private readonly client: WarehouseClient,
    private readonly warehouse: FlakyWarehouseServer,
  ) {}

  /** Stock of one article, read through the retrying, timed, breaker-guarded client: Nest subscribes to the Observable. */
  @Get('stock/:sku')
  stock(@Param('sku') sku: string): Observable<{ sku: string; available: number }> {
    return this.client.stockOf(sku).pipe(map((available) => ({ sku, available })));
  }

  /** The demo's switch: `{"mode": "down"}` or `"hung"` starts an outage, `"healthy"` or `"flaky"` ends it. */
  @Put('warehouse/mode')
  @HttpCode(204)
  @UseGuards(LocalOnlyGuard)
  setMode(@Body('mode') mode: WarehouseMode): void {
    if (!WAREHOUSE_MODES.includes(mode))
      throw new BadRequestException(`mode must be one of ${WAREHOUSE_MODES.join(', ')}`);
    this.warehouse.setMode(mode);
  }
}
