import { Logger, Module, type OnModuleDestroy } from '@nestjs/common';
import { FlakyWarehouseServer } from './flaky-warehouse-server';

/**
 * Starts the simulated warehouse with the application (on WAREHOUSE_PORT, else an ephemeral port)
 * and stops it with the application. A real application has no such module: the warehouse is
 * somebody else's service, and its URL comes from configuration.
 */
@Module({
  providers: [
    {
      provide: FlakyWarehouseServer,
      useFactory: () =>
        FlakyWarehouseServer.start({
          port: Number(process.env.WAREHOUSE_PORT ?? 0),
          log: (line) => new Logger('FlakyWarehouse').log(line),
        }),
    },
  ],
  exports: [FlakyWarehouseServer],
})
export class FlakyWarehouseModule implements OnModuleDestroy {
  constructor(private readonly warehouse: FlakyWarehouseServer) {}

  onModuleDestroy(): Promise<void> {
    return this.warehouse.close();
  }
}
