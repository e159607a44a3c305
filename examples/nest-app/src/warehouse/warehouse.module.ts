import { Module } from '@nestjs/common';
import { FlakyWarehouse } from './flaky-warehouse';
import { WarehouseClient } from './warehouse-client';
import { WarehouseController } from './warehouse.controller';

@Module({
  controllers: [WarehouseController],
  providers: [FlakyWarehouse, WarehouseClient],
  exports: [FlakyWarehouse, WarehouseClient],
})
export class WarehouseModule {}
