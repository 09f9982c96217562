/**
 * Admission: holds acquisition back while the gateway cannot deliver what it acquires.
 *
 * Past its capacity a gateway that keeps polling at the asked rate spends the main thread on
 * taking readings in and has too little left to send them: the MQTT uplink falls further behind
 * with every second, its backlog is read back from the log instead of sent as committed, the heap
 * fills, and throughput falls instead of levelling off. So while the main thread is saturated
 * (its event loop busy at least `busyAbove` of the time) and the live lane of the uplink is more
 * than `highWater` records behind, admission is held: scheduled polls wait (in a worker thread,
 * the readings it posted are not acknowledged), and the slots that pass meanwhile are recorded
 * as overrun on each device's next reading, spread over the devices as their polls come due.
 * It is released as soon as the live lane is back within `lowWater` or the uplink is not
 * connected (while held, the lag alone is looked at every `releaseSampleMs`), and by `stop()`:
 * every moment held after the uplink has caught up is a moment both threads wait for nothing.
 *
 * What it never does: hold for a slow or absent broker. A broker that acknowledges slowly leaves
 * the main thread idle (not saturated), and an outage leaves no live lane to fall behind; in both
 * the log takes every reading, as always. Replay after an outage does not count either: the live
 * lane goes first, so only live records falling behind mean the gateway itself is out of time.
 */
import { performance } from 'node:perf_hooks';
import { Latch } from '../core/latch.js';
import type { Logger } from '../core/logger.js';

/** The MQTT uplink's live lane: records appended since the connect and not yet sent. */
export type LiveLag = () => number | undefined;

export interface AdmissionOptions {
  /** Live records not yet sent; undefined while the uplink is not connected (or there is none). */
  liveLag: LiveLag;
  /** Live lag above which a saturated gateway holds acquisition. */
  highWater: number;
  /** Live lag at or below which it lets acquisition go again. */
  lowWater: number;
  /** Event-loop utilisation (0..1) from which the main thread counts as saturated; default 0.9. */
  busyAbove?: number;
  /** How often the lag and the loop are sampled, ms; default 200. */
  sampleMs?: number;
  /** While held (and started), how often the lag is looked at for the release, ms; default 5. */
  releaseSampleMs?: number;
  /** The main thread's event-loop utilisation since the previous call; tests pass their own. */
  utilization?: () => number;
  /** Monotonic ms, for the time held; default performance.now. */
  monotonic?: () => number;
  logger?: Logger;
}

export interface AdmissionStatus {
  /** Acquisition is held back now. */
  holding: boolean;
  /** Times it was held since the start. */
  holds: number;
  /** Time held since the start, ms. */
  heldMs: number;
}

const DEFAULT_BUSY = 0.9;
const DEFAULT_SAMPLE_MS = 200;
/**
 * The release is looked for far more often than the hold: sampled at 200 ms, an overloaded
 * gateway sat with both threads idle for up to 200 ms after each catch-up (docs/acquisition.md).
 */
const DEFAULT_RELEASE_SAMPLE_MS = 5;
/** A sustained overload holds many times a second: it is logged at most this often. */
const LOG_EVERY_MS = 60_000;

/** The main thread's event-loop utilisation since the previous call. */
function loopUtilization(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

export class Admission {
  private readonly o: Required<Omit<AdmissionOptions, 'logger'>> & { logger?: Logger };
  private held: { latch: Latch; since: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private holds = 0;
  private heldMs = 0;
  private loggedAt: number | undefined;
  private loggedHolds = 0;

  constructor(options: AdmissionOptions) {
    if (!(options.lowWater < options.highWater))
      throw new RangeError(
        `admission: lowWater ${options.lowWater} must be below highWater ${options.highWater}`,
      );
    this.o = {
      busyAbove: DEFAULT_BUSY,
      sampleMs: DEFAULT_SAMPLE_MS,
      releaseSampleMs: DEFAULT_RELEASE_SAMPLE_MS,
      utilization: options.utilization ?? loopUtilization(),
      monotonic: () => performance.now(),
      ...options,
    };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.o.sampleMs);
    this.timer.unref();
  }

  /** Stops sampling and lets everything that waits go. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.release();
  }

  /** One look at the loop and the lag: holds or releases. The timer calls it; tests too. */
  sample(): void {
    const busy = this.o.utilization();
    const lag = this.o.liveLag();
    if (!this.held) {
      if (lag !== undefined && lag > this.o.highWater && busy >= this.o.busyAbove) this.hold(lag, busy);
    } else this.releaseIfCaughtUp(lag);
  }

  /** While held: the lag alone, for a release as soon as the uplink has caught up. */
  private releaseIfCaughtUp(lag = this.o.liveLag()): void {
    if (lag === undefined || lag <= this.o.lowWater) this.release();
  }

  /**
   * For the scheduler (AcquisitionDeps.gate): a promise that settles when admission is released
   * or `signal` aborts, or undefined when polls may go.
   */
  readonly gate = (signal: AbortSignal): Promise<void> | undefined => {
    if (!this.held || signal.aborted) return undefined;
    return this.held.latch.wait(signal);
  };

  /** A promise that settles when admission is released, or undefined when it is not held. */
  waitOpen(): Promise<void> | undefined {
    return this.held?.latch.wait();
  }

  status(): AdmissionStatus {
    const now = this.o.monotonic();
    return {
      holding: this.held !== undefined,
      holds: this.holds,
      heldMs: Math.round(this.heldMs + (this.held ? now - this.held.since : 0)),
    };
  }

  private hold(lag: number, busy: number): void {
    const now = this.o.monotonic();
    this.held = { latch: new Latch(), since: now };
    this.holds++;
    if (this.timer) {
      this.releaseTimer = setInterval(() => this.releaseIfCaughtUp(), this.o.releaseSampleMs);
      this.releaseTimer.unref();
    }
    if (this.loggedAt !== undefined && now - this.loggedAt < LOG_EVERY_MS) return;
    this.o.logger?.warn(
      {
        liveLag: lag,
        loopBusy: Math.round(busy * 100) / 100,
        holdsSinceLastWarning: this.holds - this.loggedHolds,
        holds: this.holds,
      },
      'overloaded: acquisition held back until the uplink catches up; the slots missed are recorded as overrun',
    );
    this.loggedAt = now;
    this.loggedHolds = this.holds;
  }

  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearInterval(this.releaseTimer);
    this.releaseTimer = undefined;
    this.heldMs += this.o.monotonic() - held.since;
    held.latch.open();
  }
}
