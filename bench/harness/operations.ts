import type { OperationControl, OperationKind } from './types';

/** The service call behind every variant: resolves with 1, so a loop can check that every call returned it. */
export type Operation = () => Promise<number>;

/** Thrown by failing operations: one object made in advance, so no variant pays for a stack trace it did not cause. */
export class ServiceError extends Error {
  constructor() {
    super('service unavailable');
    this.name = 'ServiceError';
  }
}

/**
 * Lets a wave of calls in flight go. Each wave arms a fresh gate before its calls start; an
 * operation that a library invokes late (after the wave opened) finds it open and does not hang.
 */
export class Gate {
  current: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  arm(): void {
    this.current = new Promise<void>((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
  }
}

export interface OperationHandle extends OperationControl {
  readonly op: Operation;
  /** set for 'gated' operations */
  readonly gate: Gate | undefined;
}

/** A fresh operation of the given kind, counting its runs. */
export function createOperation(kind: OperationKind): OperationHandle {
  let calls = 0;
  let failing = false;
  const error = new ServiceError();
  const gate = kind === 'gated' ? new Gate() : undefined;
  let op: Operation;
  switch (kind) {
    case 'succeed':
      op = async () => {
        calls++;
        return 1;
      };
      break;
    case 'fail':
      op = async () => {
        calls++;
        throw error;
      };
      break;
    case 'switchable':
      op = async () => {
        calls++;
        if (failing) throw error;
        return 1;
      };
      break;
    case 'gated': {
      const opened = gate as Gate;
      op = async () => {
        calls++;
        await opened.current;
        return 1;
      };
      break;
    }
  }
  return {
    op,
    gate,
    get calls() {
      return calls;
    },
    setFailing(value: boolean) {
      if (kind !== 'switchable') throw new Error(`a '${kind}' operation cannot be switched`);
      failing = value;
    },
  };
}
