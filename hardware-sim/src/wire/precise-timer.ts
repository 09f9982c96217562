/**
 * Waiting for an absolute deadline on the performance.now() time line. setTimeout alone fires
 * up to a millisecond or more late; the wire model needs sub-millisecond replies, so the last
 * stretch is covered by yielding to the event loop (setImmediate) until the deadline. Deadlines
 * are absolute, so a late wake-up never shifts the transactions after it.
 */

/** Milliseconds before the deadline at which the coarse timer hands over to the fine wait. */
const FINE_WINDOW_MS = 1.5;

export function waitUntil(deadline: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const done = () => {
      signal?.removeEventListener('abort', done);
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      resolve();
    };
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', done, { once: true });
    const step = () => {
      const left = deadline - performance.now();
      if (left <= 0) return done();
      if (left > FINE_WINDOW_MS) timer = setTimeout(step, left - FINE_WINDOW_MS);
      else immediate = setImmediate(step);
    };
    step();
  });
}
