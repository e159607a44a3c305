import { legacyOnly } from './support/legacy-only';

legacyOnly('the boot check of ResilienceModule', () => require('./suites/boot-check.suite'));
