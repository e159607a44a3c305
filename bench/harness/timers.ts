import { createHook } from 'node:async_hooks';

/**
 * Timers (setTimeout, setInterval) created per call, over `calls` calls made one after the other.
 * Counted with an async hook, which is slow, so never during a measured batch.
 */
export async function timersPerCall(call: () => Promise<unknown>, calls: number): Promise<number> {
  let timers = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timers++;
    },
  });
  hook.enable();
  try {
    for (let i = 0; i < calls; i++) {
      try {
        await call();
      } catch {
        // the scenario's outcome is checked by its measured loop
      }
    }
  } finally {
    hook.disable();
  }
  return timers / calls;
}
