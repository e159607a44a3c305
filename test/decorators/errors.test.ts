import * as steadfast from '../../src';
import {
  CircuitOpenError,
  BulkheadRejectedError,
  ConfigError,
  CorruptRecordError,
  IdempotencyKeyError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  IdempotencyStoreError,
  NotIdempotentError,
  SteadfastError,
  TimeoutError,
  UnstorableResultError,
  isCircuitOpenError,
  isSteadfastError,
} from '../../src';
import { decoratorMode } from '../support/harness';

const examples: [string, string, SteadfastError][] = [
  [
    'ConfigError',
    'STEADFAST_CONFIG',
    new ConfigError('bad option', 'maxAttempts', 'Payments.charge'),
  ],
  ['NotIdempotentError', 'STEADFAST_NOT_IDEMPOTENT', new NotIdempotentError('Payments.charge')],
  [
    'CircuitOpenError',
    'STEADFAST_CIRCUIT_OPEN',
    new CircuitOpenError('payments-api', 'open', 1_500),
  ],
  [
    'IdempotencyConflictError',
    'STEADFAST_IDEMPOTENCY_CONFLICT',
    new IdempotencyConflictError('Payments.charge'),
  ],
  [
    'IdempotencyInProgressError',
    'STEADFAST_IDEMPOTENCY_IN_PROGRESS',
    new IdempotencyInProgressError('Payments.charge', 5_000),
  ],
  [
    'UnstorableResultError',
    'STEADFAST_UNSTORABLE_RESULT',
    new UnstorableResultError('Payments.charge', '(result) is a Date'),
  ],
  [
    'IdempotencyStoreError',
    'STEADFAST_IDEMPOTENCY_STORE',
    new IdempotencyStoreError('Payments.charge', new Error('ECONNREFUSED')),
  ],
  [
    'CorruptRecordError',
    'STEADFAST_IDEMPOTENCY_CORRUPT_RECORD',
    new CorruptRecordError('Payments.charge', 'it is not JSON'),
  ],
  [
    'IdempotencyKeyError',
    'STEADFAST_IDEMPOTENCY_KEY',
    new IdempotencyKeyError('Payments.charge', 'the key function returned undefined'),
  ],
  ['TimeoutError', 'STEADFAST_TIMEOUT', new TimeoutError('Payments.charge', 'attempt', 500)],
  [
    'BulkheadRejectedError',
    'STEADFAST_BULKHEAD_FULL',
    new BulkheadRejectedError('Payments.charge', 'payments', 'full'),
  ],
];

describe(`steadfast's errors (${decoratorMode} decorators)`, () => {
  it.each(examples)(
    '%s is an Error and a SteadfastError with the stable code %s',
    (name, code, error) => {
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(SteadfastError);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.constructor.name).toBe(name);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
      expect(typeof error.stack).toBe('string');
      expect(isSteadfastError(error)).toBe(true);
    },
  );

  it('covers every error class the package exports', () => {
    const exportedErrorClasses = Object.entries(steadfast)
      .filter(
        ([, value]) => typeof value === 'function' && value.prototype instanceof SteadfastError,
      )
      .map(([name]) => name);
    expect(exportedErrorClasses.sort()).toEqual(examples.map(([name]) => name).sort());
  });

  it('gives every error a different code', () => {
    const codes = examples.map(([, code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('lets retrying cure none of them but an attempt that timed out', () => {
    for (const [, , error] of examples)
      expect([error.name, error.retryable]).toEqual([error.name, error instanceof TimeoutError]);
    expect(new TimeoutError('Payments.charge', 'total', 500).retryable).toBe(false);
  });

  it('carries what each error is about', () => {
    const config = new ConfigError('bad option', 'maxAttempts', 'Payments.charge');
    const open = new CircuitOpenError('payments-api', 'half-open', 1_234.2);
    const inProgress = new IdempotencyInProgressError('Payments.charge', 5_000);

    expect([config.option, config.method, config.message]).toEqual([
      'maxAttempts',
      'Payments.charge',
      'bad option',
    ]);
    expect([open.circuit, open.state, open.retryAfter]).toEqual([
      'payments-api',
      'half-open',
      1_234.2,
    ]);
    expect(open.message).toContain('payments-api');
    expect(new NotIdempotentError('Payments.charge').message).toContain('Payments.charge');
    expect(new IdempotencyConflictError('Payments.charge').message).toContain('Payments.charge');
    expect([inProgress.method, inProgress.waited]).toEqual(['Payments.charge', 5_000]);
    const storeFailure = new Error('ECONNREFUSED');
    expect(new IdempotencyStoreError('Payments.charge', storeFailure).cause).toBe(storeFailure);
  });

  describe('isSteadfastError', () => {
    it('recognises an error from another copy of the package by its registered marker', () => {
      const fromAnotherCopy = {
        [Symbol.for('steadfast.error')]: true,
        code: 'STEADFAST_CONFIG',
        message: 'x',
      };
      expect(isSteadfastError(fromAnotherCopy)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['a plain Error', new Error('boom')],
      [
        'an Error named like one of ours',
        Object.assign(new Error('x'), { name: 'ConfigError', code: 'STEADFAST_CONFIG' }),
      ],
      [
        'an object with our code only',
        { code: 'STEADFAST_NOT_IDEMPOTENT', name: 'NotIdempotentError' },
      ],
      ['an unregistered symbol of the same description', { [Symbol('steadfast.error')]: true }],
      ['a marker that is not exactly true', { [Symbol.for('steadfast.error')]: 'yes' }],
      ['a string property of the marker name', { 'steadfast.error': true }],
      ['null', null],
      ['undefined', undefined],
      ['a string', 'STEADFAST_CONFIG'],
      ['a number', 42],
    ])('rejects %s', (_what, lookalike) => {
      expect(isSteadfastError(lookalike)).toBe(false);
    });
  });

  describe('isCircuitOpenError', () => {
    it('recognises a CircuitOpenError, and one from another copy of the package', () => {
      const fromAnotherCopy = {
        [Symbol.for('steadfast.error')]: true,
        code: 'STEADFAST_CIRCUIT_OPEN',
        circuit: 'x',
      };
      expect(isCircuitOpenError(new CircuitOpenError('payments-api', 'isolated', 0))).toBe(true);
      expect(isCircuitOpenError(fromAnotherCopy)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['another steadfast error', new NotIdempotentError('Payments.charge')],
      [
        'a marked object with another code',
        { [Symbol.for('steadfast.error')]: true, code: 'STEADFAST_CONFIG' },
      ],
      [
        'an unmarked object with the circuit code',
        { code: 'STEADFAST_CIRCUIT_OPEN', name: 'CircuitOpenError' },
      ],
      [
        'an Error named CircuitOpenError',
        Object.assign(new Error('open'), { name: 'CircuitOpenError' }),
      ],
      ['null', null],
    ])('rejects %s', (_what, lookalike) => {
      expect(isCircuitOpenError(lookalike)).toBe(false);
    });
  });
});
