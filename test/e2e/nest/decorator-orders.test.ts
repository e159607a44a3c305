import { legacyOnly } from './support/legacy-only';

legacyOnly('steadfast decorators next to NestJS decorators, in every order', () =>
  require('./suites/decorator-orders.suite'),
);
