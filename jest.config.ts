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
};

export default config;
