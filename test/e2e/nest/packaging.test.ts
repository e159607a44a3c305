import { legacyOnly } from './support/legacy-only';

legacyOnly('steadfast/nestjs as a package, and the example as the README runs it', () =>
  require('./suites/packaging.suite'),
);
