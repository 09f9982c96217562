/** Injected time source: processing and scheduling never call Date.now() directly. */
export interface Clock {
  /** Wall-clock time, UTC milliseconds. */
  now(): number;
  /** Monotonic time in milliseconds, for measuring intervals. */
  monotonic(): number;
  /** Resolves after `ms` milliseconds (or when the test clock is advanced past it). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A clock for tests: time moves only when `advance` is called. */
export class ManualClock implements Clock {
  private t: number;
  private mono = 0;
  private sleepers: { until: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.mono;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sleepers.push({ until: this.mono + ms, resolve }));
  }

  /** Moves time forward and wakes every sleeper whose time has come, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.mono + ms;
    for (;;) {
      this.sleepers.sort((a, b) => a.until - b.until);
      const next = this.sleepers[0];
      if (!next || next.until > target) break;
      this.sleepers.shift();
      this.t += next.until - this.mono;
      this.mono = next.until;
      next.resolve();
      await Promise.resolve();
    }
    this.t += target - this.mono;
    this.mono = target;
  }
}
