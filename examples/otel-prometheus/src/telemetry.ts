import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ResilienceEngine } from 'steadfast';
import { instrument } from 'steadfast/opentelemetry';

export interface TelemetryOptions {
  /** where Prometheus scrapes (default 127.0.0.1) */
  readonly host?: string;
  /** default 9464, Prometheus's registered port for OpenTelemetry; 0 picks a free one */
  readonly port?: number;
  /** the engine to report (default: defaultEngine, which ResilienceModule configures) */
  readonly engine?: ResilienceEngine;
}

export interface Telemetry {
  /** `http://127.0.0.1:<port>/metrics`: the Prometheus text format */
  readonly metricsUrl: string;
  readonly meterProvider: MeterProvider;
  stop(): Promise<void>;
}

/**
 * An OpenTelemetry MeterProvider whose only reader is the Prometheus exporter, served on `host`,
 * and steadfast's engine reported to it. Prometheus pulls: each scrape of /metrics is one
 * collection, so nothing is exported between scrapes.
 */
export async function startTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const { host = '127.0.0.1', port = 9464, engine } = options;
  // The exporter's own server listens on every interface unless told otherwise, and cannot say
  // which port it got: the app serves the exporter's handler itself.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const stopReporting = instrument({ meterProvider, ...(engine === undefined ? {} : { engine }) });
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics')
      exporter.getMetricsRequestHandler(request, response);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    metricsUrl: `http://${host}:${bound}/metrics`,
    meterProvider,
    async stop() {
      stopReporting();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await meterProvider.shutdown();
    },
  };
}
