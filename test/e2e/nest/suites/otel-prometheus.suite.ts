// examples/otel-prometheus: the order service (examples/nest-app) with steadfast's engine reported
// through OpenTelemetry to the Prometheus exporter, scraped over HTTP as Prometheus would.
import request from 'supertest';
import type { RetryEvent } from 'steadfast';
import { AppModule } from '../../../../examples/nest-app/src/app.module';
import { FlakyWarehouseServer } from '../../../../examples/nest-app/src/warehouse/flaky-warehouse-server';
import { startTelemetry, type Telemetry } from '../../../../examples/otel-prometheus/src/telemetry';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';
import { SteppingClock } from '../support/stepping-clock';

requireBuild();

/** One sample of the Prometheus text format: `name{label="value",…} value`. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    ))
      labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

describe('the order service, scraped by Prometheus', () => {
  let running: RunningApp;
  let telemetry: Telemetry;
  let warehouse: FlakyWarehouseServer;
  const retries: RetryEvent[] = [];
  let stopListening: () => void;

  beforeEach(async () => {
    const clock = new SteppingClock({ holdSleepsLongerThan: 1_000 });
    running = await startApp({ imports: [AppModule] }, { clock });
    warehouse = running.app.get(FlakyWarehouseServer);
    running.engine.breaker('warehouse').reset();
    telemetry = await startTelemetry({ port: 0, engine: running.engine });
    retries.length = 0;
    stopListening = running.engine.on('retry', (event) => void retries.push(event));
  });

  afterEach(async () => {
    stopListening();
    await telemetry.stop();
    await running.app.close();
  });

  const api = () => request(running.url);
  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    const response = await fetch(telemetry.metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    return { text, samples: parseSamples(text) };
  };
  const find = (samples: Sample[], name: string, labels: Record<string, string>) =>
    samples.filter(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );

  it('serves /metrics on 127.0.0.1: retries counted, the breaker state 1 for open and 0 for the rest', async () => {
    expect(new URL(telemetry.metricsUrl).hostname).toBe('127.0.0.1');
    // every third warehouse request fails: 3 answers, one retried request
    warehouse.setMode('flaky');
    for (let i = 0; i < 3; i++) await api().get('/stock/kettle').expect(200);
    // an outage: 502 after 3 failed attempts (2 retries); the next call's second attempt is the
    // 5th failure in a row, which opens the breaker and ends the call (1 retry); the next is refused
    warehouse.setMode('down');
    await api().get('/stock/kettle').expect(502);
    await api().get('/stock/kettle').expect(503);
    await api().get('/stock/kettle').expect(503);
    expect(retries).toHaveLength(4);

    const { text, samples } = await scrape();
    expect(text).toContain('# TYPE steadfast_retries_total counter');
    expect(text).toContain('# TYPE steadfast_circuit_breaker_state gauge');
    expect(
      find(samples, 'steadfast_retries_total', { steadfast_method: 'WarehouseClient.stockOf' }),
    ).toEqual([expect.objectContaining({ value: retries.length })]);
    const states = Object.fromEntries(
      find(samples, 'steadfast_circuit_breaker_state', { circuitbreaker_name: 'warehouse' }).map(
        (sample) => [sample.labels.circuitbreaker_state, sample.value],
      ),
    );
    expect(states).toEqual({ closed: 0, open: 1, 'half-open': 0, isolated: 0 });
    const calls = (labels: Record<string, string>) =>
      find(samples, 'steadfast_calls_total', {
        steadfast_method: 'WarehouseClient.stockOf',
        ...labels,
      }).reduce((total, sample) => total + sample.value, 0);
    expect(calls({ steadfast_outcome: 'success' })).toBe(3);
    expect(calls({ steadfast_outcome: 'failure' })).toBe(1);
    expect(calls({ steadfast_outcome: 'rejected' })).toBe(2);
    expect(
      find(samples, 'steadfast_circuit_breaker_transitions_total', {
        circuitbreaker_name: 'warehouse',
        circuitbreaker_state: 'open',
      }),
    ).toEqual([expect.objectContaining({ value: 1 })]);
    expect(
      find(samples, 'steadfast_call_duration_count', {
        steadfast_method: 'WarehouseClient.stockOf',
        steadfast_outcome: 'success',
      }),
    ).toEqual([expect.objectContaining({ value: 3 })]);
  });

  it('reads the breaker state at each scrape: closed again after reset()', async () => {
    warehouse.setMode('down');
    await api().get('/stock/kettle').expect(502);
    await api().get('/stock/kettle').expect(503);
    const open = await scrape();
    expect(
      find(open.samples, 'steadfast_circuit_breaker_state', {
        circuitbreaker_name: 'warehouse',
        circuitbreaker_state: 'open',
      }).map((sample) => sample.value),
    ).toEqual([1]);

    running.engine.breaker('warehouse').reset();
    const closed = await scrape();
    expect(
      find(closed.samples, 'steadfast_circuit_breaker_state', { circuitbreaker_name: 'warehouse' })
        .filter((sample) => sample.value === 1)
        .map((sample) => sample.labels.circuitbreaker_state),
    ).toEqual(['closed']);
  });
});
