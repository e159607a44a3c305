import { legacyOnly } from './support/legacy-only';

legacyOnly('the order service reporting to Prometheus (examples/otel-prometheus)', () =>
  require('./suites/otel-prometheus.suite'),
);
