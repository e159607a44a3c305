import { legacyOnly } from './support/legacy-only';

legacyOnly('NestJS 12 (ES modules only), in test/e2e/nest12', () =>
  require('./suites/nest12.suite'),
);
