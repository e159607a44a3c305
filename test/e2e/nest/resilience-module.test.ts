import { legacyOnly } from './support/legacy-only';

legacyOnly('ResilienceModule, its exception filter and its health indicator', () =>
  require('./suites/resilience-module.suite'),
);
