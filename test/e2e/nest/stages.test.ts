import { legacyOnly } from './support/legacy-only';

legacyOnly('timeouts, bulkheads and fallbacks in a Nest application', () =>
  require('./suites/stages.suite'),
);
