import { Module } from '@nestjs/common';
import { WarehouseModule } from '../warehouse/warehouse.module';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({
  imports: [WarehouseModule],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class OrdersModule {}
