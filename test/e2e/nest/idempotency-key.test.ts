import { legacyOnly } from './support/legacy-only';

legacyOnly("IdempotencyKey()'s options in a Nest application", () =>
  require('./suites/idempotency-key.suite'),
);
