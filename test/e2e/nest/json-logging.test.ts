import { legacyOnly } from './support/legacy-only';

legacyOnly("steadfast's lines under NestJS's JSON logger", () =>
  require('./suites/json-logging.suite'),
);
