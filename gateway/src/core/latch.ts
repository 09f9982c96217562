/**
 * A latch: shut until `open()` is called, once. Whoever waits is let go when it opens, or when
 * the waiter's own signal aborts (a stop must never hang on a latch nobody opens).
 */
export class Latch {
  private release: () => void = () => undefined;
  private readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  /** Lets every waiter go, now and later. */
  open(): void {
    this.release();
  }

  /** Settles when the latch opens. */
  wait(): Promise<void>;
  /** Settles when the latch opens or `signal` aborts, whichever comes first; no listener stays behind. */
  wait(signal: AbortSignal): Promise<void>;
  wait(signal?: AbortSignal): Promise<void> {
    if (!signal) return this.opened;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      void this.opened.then(done);
    });
  }
}
