import type { Config } from 'jest';

// The whole suite runs twice: once with legacy decorators (as NestJS compiles them) and once with
// standard ECMAScript decorators. Type checking is done by `npm run typecheck` under both configs,
// so ts-jest only transpiles here.
const project = (name: string, tsconfig: string): NonNullable<Config['projects']>[number] => ({
  displayName: name,
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig, diagnostics: false }],
  },
  globals: { STEADFAST_DECORATOR_MODE: name },
});

const config: Config = {
  projects: [
    project('legacy', '<rootDir>/test/tsconfig.jest-legacy.json'),
    project('standard', '<rootDir>/test/tsconfig.jest-standard.json'),
  ],
  testTimeout: 20_000,
  // Two workers even on 2 cores (jest's default there is one): most of the suite's time is spent
  // waiting on real redis-servers, child processes and HTTP servers, so two files at once halve the
  // run (measured: 481 s -> 265 s) while every timing bound is written for a loaded machine.
  maxWorkers: 2,
};

export default config;
