/**
 * A bus: one physical line (an RS-485 segment, a serial device server, a Modbus TCP endpoint)
 * with one transaction in flight, or on Modbus TCP up to `maxInFlight` (told apart by
 * transaction id). Transactions wait in a queue that holds at most one entry per device (each
 * device awaits its own reads), so it cannot grow without bound.
 *
 * Timing: before each request the line must have been silent for `silenceMs` since the last
 * frame ended, and a device that asks for `minGapMs` gets that much since its own last reply.
 * The queue is served by readiness, then arrival: while one device waits out its gap another
 * may use the line. No timer runs unless a wait is actually needed. See docs/acquisition.md for
 * why the silence is measured from the moment the reply was complete.
 */
import type { Clock } from '../core/clock.js';
import { LantianError, isTimeout } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  SampleWindow,
  countError,
  emptyCounters,
  type BusHealth,
  type LatencySnapshot,
  type TransactionCounters,
} from './health.js';
import { Link, type ReconnectOptions } from './link.js';
import { isGarbled, isLinkDown, isModbusException } from './transport/errors.js';
import type { Frame, LateReply, Transport } from './transport/types.js';

export interface BusOptions {
  name: string;
  /** Human-readable link description for logs and health (`tcp 10.0.0.5:502`). */
  where: string;
  transport: Transport;
  /** Silence the line needs between frames, ms: t3.5 on a local RTU line, 0 for TCP. */
  silenceMs: number;
  clock: Clock;
  logger: Logger;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
  reconnect?: ReconnectOptions;
  /**
   * Consecutive timeouts (no good reply between) after which the link is closed and reopened,
   * clearing half-open sockets and confused buffers; 0 never. Default 5.
   */
  recycleAfterTimeouts?: number;
  /**
   * The last part of a wait (silence, minimum gap) up to this many ms is spent polling the clock
   * on setImmediate rather than on a timer, which fires 1–2 ms late: a t3.5 of 3.65 ms stays
   * 3.65 ms. Needs a real clock; 0 (the default) waits on timers only.
   */
  fineWaitMs?: number;
  /**
   * Transactions outstanding at once, each served by a lane of its own over the one queue; only
   * a transport that tells replies apart (Modbus TCP) may take more than 1. Default 1.
   */
  maxInFlight?: number;
}

export interface Transaction {
  /** Device id, for health counters and the minimum gap. */
  device: string;
  frame: Frame;
  /** Reply timeout per attempt, ms. */
  timeoutMs: number;
  /** Further attempts after a timeout, CRC error, malformed reply or busy exception (0–5). */
  retries: number;
  /** Silence this device needs after its own reply before its next request, ms. */
  minGapMs: number;
  /** Time the device needs after power-on, ms: after each link connect it gets no request sooner. */
  bootDelayMs?: number;
  signal?: AbortSignal;
}

interface Queued {
  tx: Transaction;
  /** Attempts made so far (retries are queued again, so other devices may go between). */
  attempts: number;
  resolve: (data: number[]) => void;
  reject: (e: Error) => void;
}

interface DeviceStats {
  counters: TransactionCounters;
  latency: SampleWindow;
  /** Monotonic time the device's last frame ended. */
  lastFrameEnd: number;
  /**
   * On an RTU line after a timeout: until this monotonic time a late reply from the device may
   * still come, and would look exactly like the answer to a new request of the same shape, so
   * the device gets no request before then (others use the line meanwhile).
   */
  lateUntil: number;
  /** No request before this monotonic time: the device is booting (bootDelayMs). */
  notBefore: number;
  /** Link connects this device has waited out its boot delay after. */
  connectsSeen: number;
}

/** Exceptions 05 (acknowledge, try later) and 06 (busy) invite a retry; the rest are final. */
const retryable = (e: unknown): boolean =>
  isTimeout(e) || isGarbled(e) || isModbusException(e, 5) || isModbusException(e, 6);

const aborted = (tx: Transaction, bus: string): LantianError =>
  new LantianError('ACQ_ABORTED', `bus ${bus}: read of ${tx.device} abandoned`, {
    context: { bus, device: tx.device },
  });

export class Bus {
  readonly name: string;
  private readonly link: Link;
  private readonly queue: Queued[] = [];
  /** The abort signals `watch` listens to. */
  private readonly watched = new WeakSet<AbortSignal>();
  /** Pump loops running; each has at most one transaction in flight. */
  private lanes = 0;
  private readonly maxInFlight: number;
  /** Transactions on the wire now, and since when the line has been busy with any. */
  private active = 0;
  private activeSince = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  /** Monotonic time the last frame on the line ended (reply received or given up on). */
  private lastFrameEnd = -Infinity;
  private consecutiveTimeouts = 0;
  private readonly counters = emptyCounters();
  private readonly latency = new SampleWindow();
  private readonly devices = new Map<string, DeviceStats>();
  /** Unit id -> device id, to put a late reply on the right device. */
  private readonly unitDevices = new Map<number, string>();
  private busyMs = 0;
  private maxQueued = 0;
  private readonly log: Logger;

  constructor(private readonly opts: BusOptions) {
    this.name = opts.name;
    this.log = opts.logger;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.link = new Link(
      opts.transport,
      opts.where,
      opts.clock,
      opts.random ?? Math.random,
      opts.logger,
      opts.reconnect,
    );
    opts.transport.onLateReply?.((r) => this.lateReply(r));
  }

  /**
   * Queues one read; resolves with its data or rejects with the last attempt's error. When
   * `tx.signal` aborts, the read is abandoned if it is still queued.
   */
  execute(tx: Transaction): Promise<number[]> {
    if (this.closed || tx.signal?.aborted) return Promise.reject(aborted(tx, this.name));
    if (tx.signal) this.watch(tx.signal);
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ tx, attempts: 0, resolve, reject });
      this.maxQueued = Math.max(this.maxQueued, this.queue.length);
      this.wake?.();
      if (this.lanes < this.maxInFlight) void this.pump();
    });
  }

  /**
   * One listener for each signal the bus's reads carry, for as long as the signal lives: a device
   * polls with one signal from start to stop, so a read costs no listener of its own to add and
   * remove.
   */
  private watch(signal: AbortSignal): void {
    if (this.watched.has(signal)) return;
    this.watched.add(signal);
    signal.addEventListener('abort', () => this.abandon(signal), { once: true });
  }

  /** Rejects and drops the queued reads that carry `signal`; one on the wire ends as it would. */
  private abandon(signal: AbortSignal): void {
    const gone = this.queue.filter((q) => q.tx.signal === signal);
    if (gone.length === 0) return;
    this.queue.splice(0, this.queue.length, ...this.queue.filter((q) => q.tx.signal !== signal));
    for (const q of gone) q.reject(aborted(q.tx, this.name));
  }

  private device(id: string): DeviceStats {
    let d = this.devices.get(id);
    if (!d) {
      d = {
        counters: emptyCounters(),
        latency: new SampleWindow(),
        lastFrameEnd: -Infinity,
        lateUntil: -Infinity,
        notBefore: -Infinity,
        connectsSeen: 0,
      };
      this.devices.set(id, d);
    }
    return d;
  }

  private readyAt(tx: Transaction): number {
    const d = this.device(tx.device);
    return Math.max(
      this.lastFrameEnd + this.opts.silenceMs,
      d.lastFrameEnd + tx.minGapMs,
      d.lateUntil,
      d.notBefore,
    );
  }

  /** The device gets no request for `ms` from now (it is booting); others use the line meanwhile. */
  hold(device: string, ms: number): void {
    const d = this.device(device);
    d.notBefore = Math.max(d.notBefore, this.opts.clock.monotonic() + ms);
  }

  /** A reply came after its request timed out: counted, and the device may be asked again. */
  private lateReply(r: LateReply): void {
    const id = this.unitDevices.get(r.unitId);
    const dev = id === undefined ? undefined : this.device(id);
    for (const c of dev ? [dev.counters, this.counters] : [this.counters]) c.lateReplies++;
    if (dev) dev.lateUntil = -Infinity;
    this.log.debug({ bus: this.name, device: id, ...r }, 'late reply discarded');
    this.wake?.();
  }

  /**
   * The queued transaction that may go first: earliest ready, then earliest queued. Every
   * transaction that is ready by the time the line is (now, or when its silence ends) is equally
   * ready, so the first such in the queue goes and the scan stops there: on a busy line with
   * many devices, picking costs the same whatever the queue's length.
   */
  private pick(): Queued | undefined {
    const floor = Math.max(this.lastFrameEnd + this.opts.silenceMs, this.opts.clock.monotonic());
    let best: Queued | undefined;
    let bestAt = Infinity;
    // The queue is in arrival order, so on a tie the earlier arrival stays the pick.
    for (const q of this.queue) {
      const at = this.readyAt(q.tx);
      if (at <= floor) return q;
      if (!best || at < bestAt) {
        best = q;
        bestAt = at;
      }
    }
    return best;
  }

  private async pump(): Promise<void> {
    this.lanes++;
    try {
      while (!this.closed) {
        const next = this.pick();
        if (!next) break;
        const ready = this.readyAt(next.tx);
        const wait = ready - this.opts.clock.monotonic();
        if (wait > (this.opts.fineWaitMs ?? 0)) {
          // Another lane already sleeps until the next one is ready: it will take it.
          if (this.wake) break;
          // Long enough for a timer; someone else may become ready meanwhile, so pick again.
          await this.sleep(wait - (this.opts.fineWaitMs ?? 0));
          continue;
        }
        // Nothing to wait for (the usual case on a busy line): no frame and no promise for it.
        if (ready > this.opts.clock.monotonic()) await this.waitUntil(ready);
        // A transaction may have arrived or become ready sooner meanwhile (or another lane took
        // this one); the pick stands if it is still queued.
        const at = this.queue.indexOf(next);
        if (at < 0) continue;
        this.queue.splice(at, 1);
        // More are waiting and the line takes more at once: another lane serves them meanwhile.
        if (this.queue.length > 0 && this.lanes < this.maxInFlight) void this.pump();
        try {
          const data = await this.attempt(next.tx, next.attempts);
          if (data === 'retry' || data === 'wait') {
            // Queued again at the front, so it goes first once ready; waiting is no attempt.
            if (data === 'retry') next.attempts++;
            this.queue.unshift(next);
            continue;
          }
          next.resolve(data);
        } catch (e) {
          next.reject(e instanceof Error ? e : new LantianError('TRANSPORT_CLOSED', String(e), { cause: e }));
        }
      }
    } finally {
      this.lanes--;
    }
  }

  /** Waits until monotonic time `t`: a timer for the coarse part, clock polling for the last `fineWaitMs`. */
  private async waitUntil(t: number): Promise<void> {
    const { clock, fineWaitMs = 0 } = this.opts;
    const coarse = t - clock.monotonic() - fineWaitMs;
    if (coarse > 0) await clock.sleep(coarse);
    if (fineWaitMs > 0) {
      while (clock.monotonic() < t) await new Promise((r) => setImmediate(r));
    } else if (t > clock.monotonic()) {
      await clock.sleep(t - clock.monotonic());
    }
  }

  /** Sleeps `ms`, or less when a new transaction arrives (it may be ready sooner). */
  private async sleep(ms: number): Promise<void> {
    const ac = new AbortController();
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([this.opts.clock.sleep(ms, ac.signal).catch(() => undefined), woken]);
    this.wake = undefined;
    ac.abort();
  }

  /**
   * One attempt of `tx`: its data, `retry` when it should be tried again, `wait` when the link
   * just connected and the device must first boot, or the final error.
   */
  private async attempt(tx: Transaction, attempt: number): Promise<number[] | 'retry' | 'wait'> {
    const dev = this.device(tx.device);
    const clock = this.opts.clock;
    if (attempt > 0) {
      dev.counters.retries++;
      this.counters.retries++;
    }
    if (this.closed || tx.signal?.aborted) throw aborted(tx, this.name);
    try {
      await this.link.ensureOpen();
    } catch (e) {
      countError(dev.counters, e);
      countError(this.counters, e);
      throw e;
    }
    const connects = this.link.counters.connects;
    if (dev.connectsSeen !== connects) {
      // The link (re)connected: whatever sits behind it may just have been powered up.
      dev.connectsSeen = connects;
      dev.notBefore = Math.max(dev.notBefore, this.link.connectedAt + (tx.bootDelayMs ?? 0));
      if (clock.monotonic() < dev.notBefore) return 'wait';
    }
    this.unitDevices.set(tx.frame.unitId, tx.device);
    dev.counters.requests++;
    this.counters.requests++;
    const t0 = clock.monotonic();
    if (this.active++ === 0) this.activeSince = t0;
    try {
      const data = await this.opts.transport.read(tx.frame, tx.timeoutMs);
      const t1 = clock.monotonic();
      this.frameEnded(dev, t1);
      for (const c of [dev.counters, this.counters]) {
        c.replies++;
        c.lastGoodReplyTs = clock.now();
      }
      dev.latency.add(t1 - t0);
      this.latency.add(t1 - t0);
      this.consecutiveTimeouts = 0;
      this.link.markGood();
      if (this.log.isLevelEnabled('debug')) {
        const words = data.map((w) => w.toString(16).padStart(tx.frame.function <= 2 ? 1 : 4, '0')).join(' ');
        this.log.debug({ device: tx.device, frame: tx.frame, words, latencyMs: t1 - t0 }, 'reply');
      }
      return data;
    } catch (e) {
      const t1 = clock.monotonic();
      // The bus closed under this read (a stop): abandoned, not a failure of the device or link.
      if (this.closed || tx.signal?.aborted) {
        this.settled(t1);
        throw aborted(tx, this.name);
      }
      this.frameEnded(dev, t1);
      countError(dev.counters, e);
      countError(this.counters, e);
      this.log.debug({ bus: this.name, device: tx.device, frame: tx.frame, attempt, err: e }, 'read failed');
      if (isTimeout(e)) {
        // Over TCP the transaction id tells a late reply apart; on an RTU line only time can.
        if (this.opts.transport.kind !== 'tcp') dev.lateUntil = t1 + tx.timeoutMs;
        await this.noteTimeout();
      }
      if (attempt < tx.retries && retryable(e) && !isLinkDown(e)) return 'retry';
      throw e;
    }
  }

  private frameEnded(dev: DeviceStats, t1: number): void {
    this.lastFrameEnd = t1;
    dev.lastFrameEnd = t1;
    this.settled(t1);
  }

  /** A transaction left the line at `t1`. Busy is the time with any on it: overlaps count once. */
  private settled(t1: number): void {
    if (--this.active === 0) this.busyMs += t1 - this.activeSince;
  }

  private async noteTimeout(): Promise<void> {
    const limit = this.opts.recycleAfterTimeouts ?? 5;
    if (limit > 0 && ++this.consecutiveTimeouts >= limit) {
      this.consecutiveTimeouts = 0;
      this.log.warn({ bus: this.name }, `${limit} timeouts in a row: reopening the link`);
      await this.link.recycle();
    }
  }

  /** Transaction counters of one device on this bus. */
  deviceHealth(device: string): TransactionCounters & LatencySnapshot {
    const d = this.device(device);
    return { ...d.counters, latencyMs: d.latency.percentiles() };
  }

  health(): BusHealth {
    return {
      bus: this.name,
      link: this.opts.where,
      connected: this.link.connected,
      ...this.link.counters,
      ...this.counters,
      latencyMs: this.latency.percentiles(),
      busyMs: Math.round(this.busyMs),
      maxQueued: this.maxQueued,
    };
  }

  /** After `close`: takes transactions again; the link opens on the first. */
  reopen(): void {
    this.closed = false;
    this.link.reopen();
  }

  /** Abandons queued reads (ACQ_ABORTED) and closes the link. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(aborted(q.tx, this.name));
    this.wake?.();
    await this.link.close();
  }
}
