import type { OutcomeWindow } from './outcome-window';

const FAILED = 1;
const SLOW = 2;

/** The last `size` calls, in a ring buffer; the oldest outcome is subtracted as a new one enters. */
export class CountWindow implements OutcomeWindow {
  calls = 0;
  failures = 0;
  slowCalls = 0;
  private readonly outcomes: Uint8Array;
  private next = 0;

  constructor(readonly size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(_now: number, failed: boolean, slow: boolean): void {
    if (this.calls === this.size) {
      const evicted = this.outcomes[this.next] as number;
      if (evicted & FAILED) this.failures--;
      if (evicted & SLOW) this.slowCalls--;
    } else {
      this.calls++;
    }
    this.outcomes[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    if (++this.next === this.size) this.next = 0;
  }

  advance(): void {}

  clear(): void {
    this.calls = this.failures = this.slowCalls = 0;
    this.next = 0;
    this.outcomes.fill(0);
  }
}
