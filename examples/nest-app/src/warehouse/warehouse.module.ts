import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { FlakyWarehouseModule } from './flaky-warehouse.module';
import { FlakyWarehouseServer } from './flaky-warehouse-server';
import { WarehouseClient } from './warehouse-client';
import { WarehouseController } from './warehouse.controller';

@Module({
  imports: [
    FlakyWarehouseModule,
    // In a real application: `inject: [ConfigService]` and the warehouse's URL from configuration.
    HttpModule.registerAsync({
      imports: [FlakyWarehouseModule],
      inject: [FlakyWarehouseServer],
      useFactory: (warehouse: FlakyWarehouseServer) => ({ baseURL: warehouse.url }),
    }),
  ],
  controllers: [WarehouseController],
  providers: [WarehouseClient],
  exports: [WarehouseClient],
})
export class WarehouseModule {}
