import { compileSingleCall, type SingleCall } from './compile';
import { createOperation, type OperationHandle } from './operations';
import type { Scenario, Subject, Variant } from './types';

/** A variant set up for one scenario: its subject, its operation, and a plain single call. */
export interface PreparedVariant {
  readonly variant: Variant;
  readonly subject: Subject;
  readonly operation: OperationHandle;
  readonly invoke: string;
  readonly call: SingleCall;
  /** attempts each call must make: the scenario's, or its exception for this variant */
  readonly attemptsPerCall: number;
  /** checks that the operation ran `attemptsPerCall` times for each of `calls` calls since `before` */
  checkAttempts(before: number, calls: number): void;
}

export async function prepareVariant(
  scenario: Scenario,
  variant: Variant,
): Promise<PreparedVariant> {
  const operation = createOperation(scenario.operation);
  const subject = await variant.setup(operation.op, {
    key: `bench.${scenario.id}.${variant.name}`,
  });
  const invoke = subject.invoke ?? 't()';
  const call = compileSingleCall(invoke);
  if (scenario.prepare !== undefined) await scenario.prepare(() => call(subject.target), operation);
  const attemptsPerCall = scenario.attemptsOf?.[variant.name] ?? scenario.attemptsPerCall;
  return {
    variant,
    subject,
    operation,
    invoke,
    call,
    attemptsPerCall,
    checkAttempts(before, calls) {
      const ran = operation.calls - before;
      const expected = calls * attemptsPerCall;
      if (ran !== expected) {
        throw new Error(
          `${scenario.id} / ${variant.name}: the operation ran ${ran} times for ${calls} calls, expected ${attemptsPerCall} per call; the variant is not configured as the scenario requires`,
        );
      }
    },
  };
}

export async function disposeAll(prepared: readonly PreparedVariant[]): Promise<void> {
  for (const { subject } of prepared) await subject.dispose?.();
}
