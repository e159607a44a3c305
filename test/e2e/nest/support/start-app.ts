import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MemoryStore, ResilienceEngine } from 'steadfast';
import { RecordingNestLogger } from './recording-nest-logger';
import { SteppingClock } from './stepping-clock';

export interface RunningApp {
  readonly app: INestApplication;
  /** `http://127.0.0.1:<port>`: give it to supertest's `request()` */
  readonly url: string;
  readonly engine: ResilienceEngine;
  readonly clock: SteppingClock;
  readonly logger: RecordingNestLogger;
}

/**
 * Compiles a module with @nestjs/testing, listens on 127.0.0.1 (an ephemeral port), and points the
 * injected engine at a SteppingClock, a fixed random source and an empty idempotency store, so that
 * retries take no real time and nothing is left over from an earlier test. An app whose attempts
 * make real I/O under a deadline is given a clock that holds its deadlines (`holdSleepsLongerThan`).
 */
export async function startApp(
  metadata: ModuleMetadata,
  { clock = new SteppingClock() }: { clock?: SteppingClock } = {},
): Promise<RunningApp> {
  const logger = new RecordingNestLogger();
  const moduleRef = await Test.createTestingModule(metadata).setLogger(logger).compile();
  const app = moduleRef.createNestApplication();
  const engine = app.get(ResilienceEngine);
  engine.configure({ clock, random: () => 0.5, store: new MemoryStore() });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl(), engine, clock, logger };
}
