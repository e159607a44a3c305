import type { Gate } from './operations';
import type { Outcome } from './types';

/** Runs `n` calls one after the other; returns how long they took. */
export type SequentialLoop = (target: unknown, n: number) => Promise<Elapsed>;
/** Runs `waves` waves of `slots.length` calls in flight at once; returns how long they took. */
export type WaveLoop = (
  target: unknown,
  waves: number,
  gate: Gate,
  slots: unknown[],
) => Promise<Elapsed>;
/** One call, outside any measured loop (setup, checks, timer counting). */
export type SingleCall = (target: unknown) => Promise<unknown>;

/*
 * Every variant gets its own loop, compiled from source with `new Function`: no two variants share
 * a call site, so one variant's JIT feedback (inline caches, inlining decisions) never slows or
 * speeds another's. The variant's call expression is spliced in, so the loop calls it directly.
 */

function identifier(name: string): string {
  return name.replace(/[^A-Za-z0-9_$]+/g, '_').replace(/^(\d)/, '_$1');
}

function checkInvoke(invoke: string): string {
  // The expression is written by the bench's own variants; this only catches a slip.
  new Function('t', `return ${invoke};`);
  return invoke;
}

/** A batch's duration in ms, by both clocks: wall time, and the process's CPU time (user + system). */
export interface Elapsed {
  readonly wall: number;
  readonly cpu: number;
}

interface Mark {
  readonly wall: number;
  readonly cpu: NodeJS.CpuUsage;
}

function mark(): Mark {
  return { wall: performance.now(), cpu: process.cpuUsage() };
}

function since(start: Mark): Elapsed {
  const wall = performance.now() - start.wall;
  const { user, system } = process.cpuUsage(start.cpu);
  return { wall, cpu: (user + system) / 1000 };
}

export function compileSequentialLoop(
  name: string,
  invoke: string,
  outcome: Outcome,
): SequentialLoop {
  const call = checkInvoke(invoke);
  const body =
    outcome === 'resolve'
      ? `
  let sum = 0;
  const start = mark();
  for (let i = 0; i < n; i++) sum += await ${call};
  const elapsed = since(start);
  if (sum !== n) throw new Error(${JSON.stringify(name)} + ': ' + (n - sum) + ' of ' + n + ' calls did not resolve with the operation result');
  return elapsed;`
      : `
  let rejected = 0;
  const start = mark();
  for (let i = 0; i < n; i++) {
    try {
      await ${call};
    } catch {
      rejected++;
    }
  }
  const elapsed = since(start);
  if (rejected !== n) throw new Error(${JSON.stringify(name)} + ': ' + (n - rejected) + ' of ' + n + ' calls did not reject');
  return elapsed;`;
  return new Function(
    'mark',
    'since',
    `return async function loop_${identifier(name)}(t, n) {${body}\n};`,
  )(mark, since) as SequentialLoop;
}

export function compileWaveLoop(name: string, invoke: string): WaveLoop {
  const call = checkInvoke(invoke);
  const body = `
  const width = slots.length;
  let sum = 0;
  const start = mark();
  for (let w = 0; w < waves; w++) {
    gate.arm();
    for (let i = 0; i < width; i++) slots[i] = ${call};
    gate.open();
    for (let i = 0; i < width; i++) sum += await slots[i];
  }
  const elapsed = since(start);
  slots.fill(null);
  if (sum !== waves * width) throw new Error(${JSON.stringify(name)} + ': ' + (waves * width - sum) + ' calls in flight did not resolve with the operation result');
  return elapsed;`;
  return new Function(
    'mark',
    'since',
    `return async function waves_${identifier(name)}(t, waves, gate, slots) {${body}\n};`,
  )(mark, since) as WaveLoop;
}

export function compileSingleCall(invoke: string): SingleCall {
  return new Function('t', `return ${checkInvoke(invoke)};`) as SingleCall;
}
