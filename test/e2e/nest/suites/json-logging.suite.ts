// NestJS's own JSON logger (ConsoleLogger with json: true): steadfast's lines keep their fields.
import { ConsoleLogger, Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { FakeClock } from 'steadfast/testing';
import { Idempotent, ResilienceEngine, Retryable } from 'steadfast';
import { ResilienceModule } from 'steadfast/nestjs';
import { requireBuild } from '../support/built-package';

requireBuild();

@Injectable()
class Inventory {
  calls = 0;

  @Idempotent()
  @Retryable({ maxAttempts: 2, initialDelay: 0, maxDelay: 0, jitter: 'none' })
  async count(): Promise<number> {
    this.calls++;
    throw Object.assign(new Error('inventory unavailable'), { code: 'E_INVENTORY' });
  }
}

@Controller('inventory')
class InventoryController {
  constructor(private readonly inventory: Inventory) {}

  @Get()
  count(): Promise<number> {
    return this.inventory.count();
  }
}

@Module({
  imports: [ResilienceModule.forRoot({})],
  controllers: [InventoryController],
  providers: [Inventory],
})
class JsonLoggingModule {}

describe("steadfast's lines under NestJS's JSON logger", () => {
  it("carry method, attempt, delay and the error as JSON fields, and a final failure has no stack of steadfast's", async () => {
    const written: string[] = [];
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    const writeErr = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    const moduleRef = await Test.createTestingModule({ imports: [JsonLoggingModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: new ConsoleLogger({ json: true }) });
    try {
      app.get(ResilienceEngine).configure({ clock: new FakeClock() });
      await app.listen(0, '127.0.0.1');
      await request(await app.getUrl())
        .get('/inventory')
        .expect(500);
    } finally {
      await app.close();
      write.mockRestore();
      writeErr.mockRestore();
    }

    const lines = written
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const ours = lines.filter((line) => line.context === 'steadfast');
    expect(ours).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: expect.objectContaining({
          message: expect.stringContaining('Inventory.count attempt 1/2 failed'),
          method: 'Inventory.count',
          attempt: 1,
          maxAttempts: 2,
          delay: 0,
          error: { name: 'Error', message: 'inventory unavailable', code: 'E_INVENTORY' },
        }),
      }),
      expect.objectContaining({
        level: 'error',
        message: expect.objectContaining({
          method: 'Inventory.count',
          attempt: 2,
          reason: 'exhausted',
        }),
      }),
    ]);
    expect(ours.every((line) => line.stack === undefined)).toBe(true);
    // NestJS's exception handler logs the error that reached it, with its stack: once.
    const stacks = lines.filter((line) => JSON.stringify(line).includes('at Inventory.count'));
    expect(stacks).toEqual([
      expect.objectContaining({ level: 'error', context: 'ExceptionsHandler' }),
    ]);
  });
});
