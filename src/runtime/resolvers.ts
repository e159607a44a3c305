/**
 * A promise with its resolve and reject, made without a closure per promise: one shared executor
 * hands them over through these two slots, read at once after construction.
 */
let lastResolve: (value: unknown) => void = () => undefined;
let lastReject: (error: unknown) => void = () => undefined;

function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  lastResolve = resolve;
  lastReject = reject;
}

export interface Resolvers {
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Fills `into` with a new pending promise and its resolvers. */
export function resolversInto(into: Resolvers): void {
  into.promise = new Promise(capture);
  into.resolve = lastResolve;
  into.reject = lastReject;
}
