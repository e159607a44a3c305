import { legacyOnly } from './support/legacy-only';

legacyOnly('the example order service (examples/nest-app)', () =>
  require('./suites/order-service.suite'),
);
