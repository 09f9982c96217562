/**
 * Per-device polling on a fixed period grid. Each device is one explicit state machine that
 * awaits its own reads, so one device is never read twice at once and nothing piles up:
 *
 *   waiting(due) -> polling(due) -> waiting(next due)       normal
 *   polling: no answer at all, twice in a row -> backoff(until)
 *   backoff: each due slot gives B readings without using the bus; the first slot after
 *            `until` probes with one request (no retries) -> polling or a longer backoff
 *
 * When a poll ends after further slots have passed (the bus is slower than asked), those slots
 * merge into one immediate poll and `overruns` counts them. They are recorded on that poll's
 * readings (`missed`: how many, the first one's due time, the period), each one a B sample with
 * quality `overrun`; a stop before that poll records them as B readings of their own. So an
 * overloaded bus spends its time on values, not on records of what it missed. A silent device costs the bus at
 * most one timeout budget per poll (its first read, with retries; the rest of that poll is
 * skipped), and one timeout per probe once backed off.
 */
import type { Clock } from '../core/clock.js';
import { LantianError, isLantianError, isTimeout } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { MissedSlots, ReadingDraft } from '../core/reading.js';
import type { Profile, ResolvedPoint } from '../profiles/schema.js';
import type { Bus } from './bus.js';
import { cycleOutcomes, planDevice, toDrafts, type ReadResult } from './device.js';
import { SampleWindow, type DeviceHealth, type DeviceState } from './health.js';
import { backoffMs } from './link.js';
import { requestCostMs, type PlanStrategy, type PlannedRead, type RequestCost } from './planner.js';
import { isLinkDown, isModbusException } from './transport/errors.js';

const settled = (): void => undefined;

/** Slack on a probe's timeout for adapter, socket and event-loop latency, ms. */
const PROBE_MARGIN_MS = 50;

export interface BackoffOptions {
  /** Polls in a row with no answer at all before the device is backed off (default 2). */
  deadAfter?: number;
  /** First back-off, ms (default: the device's period, at least 1000). */
  initialMs?: number;
  /** Longest back-off, ms (default 60 000). */
  maxMs?: number;
}

export interface PollerOptions {
  id: string;
  bus: Bus;
  profile: Profile;
  /** Unit id (slave address) 0–255. */
  unitId: number;
  /** Poll period, ms (> 0). */
  periodMs: number;
  /** Reply timeout per attempt, ms. */
  timeoutMs: number;
  /** Further attempts per read after a timeout or a garbled reply (0–5). */
  retries: number;
  points: ResolvedPoint[];
  cost: RequestCost;
  /** Planner strategy, default 'cost'. */
  plan?: PlanStrategy;
  backoff?: BackoffOptions;
  clock: Clock;
  logger: Logger;
  random: () => number;
  onReadings: (drafts: ReadingDraft[]) => void;
  /** Holds each scheduled poll back while it returns a promise (AcquisitionDeps.gate). */
  gate?: (signal: AbortSignal) => Promise<void> | undefined;
}

type PollerState =
  | { kind: 'idle' }
  | { kind: 'waiting'; due: number }
  | { kind: 'polling'; due: number; probe: boolean }
  | { kind: 'backoff'; due: number; until: number };

export class DevicePoller {
  private state: PollerState = { kind: 'idle' };
  private reads: PlannedRead[];
  private strategy: PlanStrategy;
  private consecutiveFailures = 0;
  /** Whether the last poll got any answer from the device. */
  private lastAnswered = true;
  private backoffUntil: number | undefined;
  private lastStart: number | undefined;
  /** The poll in progress, if any: the next one chains behind it. */
  private polling: Promise<unknown> = Promise.resolve();
  private readonly lag = new SampleWindow();
  private readonly jitter = new SampleWindow();
  private readonly stats = { polls: 0, failedPolls: 0, skippedPolls: 0, overruns: 0, sinkErrors: 0 };
  /** Slots that overran and are not recorded yet: they go with the next readings delivered. */
  private missed: MissedSlots | undefined;

  /** The period in force: `o.periodMs`, or a faster one while the site asks for it (high wind). */
  private periodMs: number;

  constructor(private readonly o: PollerOptions) {
    this.periodMs = o.periodMs;
    this.strategy = o.plan ?? 'cost';
    this.reads = planDevice(o.profile, o.points, o.cost, { strategy: this.strategy });
  }

  /** The device's id (its health snapshot, with percentiles over three windows, is not needed for that). */
  get id(): string {
    return this.o.id;
  }

  get plan(): readonly PlannedRead[] {
    return this.reads;
  }

  /**
   * Changes the poll period from the next slot on (the slot already due keeps its time);
   * undefined goes back to the configured period.
   */
  setPeriod(ms: number | undefined): void {
    this.periodMs = ms ?? this.o.periodMs;
  }

  /** Runs until `signal` aborts; the first poll is due at `firstDue` (monotonic ms). */
  async run(signal: AbortSignal, firstDue: number): Promise<void> {
    const { clock } = this.o;
    let due = firstDue;
    while (!signal.aborted) {
      this.state = { kind: 'waiting', due };
      const wait = due - clock.monotonic();
      if (wait > 0) await clock.sleep(wait, signal).catch(() => undefined);
      const held = this.o.gate?.(signal);
      if (held) await held;
      if (signal.aborted) break;

      const start = clock.monotonic();
      if (this.backoffUntil !== undefined && start < this.backoffUntil) {
        this.state = { kind: 'backoff', due, until: this.backoffUntil };
        this.stats.skippedPolls++;
        this.deliver(this.unpolled('ACQ_DEVICE_BACKOFF', `device ${this.o.id} backed off`, clock.now()));
      } else {
        this.lag.add(start - due);
        if (this.lastStart !== undefined) this.jitter.add(start - this.lastStart - this.periodMs);
        this.lastStart = start;
        const probe = this.backoffUntil !== undefined;
        this.state = { kind: 'polling', due, probe };
        if (!(await this.pollAndDeliver(probe, signal))) break;
      }

      // Slots that passed while polling merge into one immediate poll; each leaves B readings.
      // The period is read now: a change the poll's own readings caused applies to the next slot.
      const periodMs = this.periodMs;
      let next = due + periodMs;
      const late = clock.monotonic() - next;
      if (late >= periodMs) {
        const merged = Math.floor(late / periodMs);
        this.stats.overruns += merged;
        const from = Math.round(clock.now() - (clock.monotonic() - next));
        this.missed = { slots: merged, from, periodMs };
        next += merged * periodMs;
      }
      if (this.backoffUntil !== undefined) this.lastStart = undefined;
      due = next;
    }
    // Stopped before the poll that would carry them: the overrun slots get B readings of their own
    // (the first slot's, carrying the rest).
    const m = this.missed;
    if (m) {
      this.missed = undefined;
      const drafts = this.unpolled('ACQ_OVERRUN', `device ${this.o.id}: slot overrun`, m.from);
      if (m.slots > 1) {
        const rest = { slots: m.slots - 1, from: m.from + m.periodMs, periodMs: m.periodMs };
        for (const d of drafts) d.missed = rest;
      }
      this.deliver(drafts);
    }
    this.state = { kind: 'idle' };
  }

  /**
   * One poll of every planned read; undefined when abandoned because polling stops. Polls of one
   * device never overlap: a poll asked for while another runs (`pollOnce` during `start`) waits.
   */
  poll(probe = false, signal?: AbortSignal): Promise<ReadingDraft[] | undefined> {
    const next = this.polling.then(() => this.pollNow(probe, signal));
    // Settles with nothing: a chain that kept the poll's value would hold its readings alive
    // until the next poll, long enough for V8 to move them to the old space as garbage.
    this.polling = next.then(settled, settled);
    return next;
  }

  private async pollNow(probe: boolean, signal?: AbortSignal): Promise<ReadingDraft[] | undefined> {
    const { bus, id, unitId, timeoutMs, retries, profile, clock } = this.o;
    const reads: PlannedRead[] = [];
    const results: ReadResult[] = [];
    let silence: LantianError | undefined;
    let answered = false;
    const queue = [...this.reads];
    for (let read = queue.shift(); read; read = queue.shift()) {
      if (silence) {
        reads.push(read);
        results.push({ ok: false, error: silence, ts: clock.now() });
        continue;
      }
      try {
        const data = await bus.execute({
          device: id,
          frame: { unitId, function: read.function, address: read.address, count: read.count },
          // A probe of a backed-off device is one request with a short timeout: a live device
          // answers within its turnaround and the wire time, so a dead one costs little.
          timeoutMs: probe && reads.length === 0 ? this.probeTimeoutMs(read) : timeoutMs,
          retries: probe && reads.length === 0 ? 0 : retries,
          minGapMs: profile.quirks.minGapMs,
          bootDelayMs: profile.quirks.bootDelayMs,
          signal,
        });
        // Back from a back-off (often a power cycle): the device may still be booting, so its
        // next request waits bootDelayMs.
        if (probe && reads.length === 0 && profile.quirks.bootDelayMs > 0) {
          bus.hold(id, profile.quirks.bootDelayMs);
        }
        answered = true;
        reads.push(read);
        results.push({ ok: true, data, ts: clock.now() });
      } catch (e) {
        // Stopping closes the links under pending reads: what fails then is not the device's.
        if (isLantianError(e, 'ACQ_ABORTED') || signal?.aborted) return undefined;
        const error = isLantianError(e) ? e : new LantianError('TRANSPORT_CLOSED', String(e), { cause: e });
        if (read.gapFilled && (isModbusException(e, 2) || isModbusException(e, 3))) {
          // The device refuses an address the profile did not mark: stop filling gaps for it.
          this.o.logger.warn(
            { device: id, read, err: e },
            'gap-filled read refused: re-planning without gaps',
          );
          this.strategy = 'contiguous';
          this.reads = planDevice(profile, this.o.points, this.o.cost, { strategy: 'contiguous' });
          queue.unshift(
            ...planDevice(
              profile,
              this.o.points.filter((p) => read.keys.includes(p.key)),
              this.o.cost,
              { strategy: 'contiguous' },
            ),
          );
          answered = true;
          continue;
        }
        reads.push(read);
        results.push({ ok: false, error, ts: clock.now() });
        if (!isTimeout(e) && !isLinkDown(e)) answered = true;
        // A silent device or a dead link: the other reads would only cost the bus more timeouts.
        if (isTimeout(e) || isLinkDown(e)) silence = error;
      }
    }
    this.afterPoll(answered, silence);
    return toDrafts(id, cycleOutcomes(profile, this.o.points, reads, results));
  }

  /** Twice the modelled time of the read (request, turnaround, reply) plus a margin, at most the timeout. */
  private probeTimeoutMs(read: PlannedRead): number {
    const modelled = requestCostMs(this.o.cost, read.function, read.count);
    return Math.min(this.o.timeoutMs, Math.ceil(2 * modelled + PROBE_MARGIN_MS));
  }

  private afterPoll(answered: boolean, silence: LantianError | undefined): void {
    this.stats.polls++;
    this.lastAnswered = answered;
    if (answered) {
      this.consecutiveFailures = 0;
      this.backoffUntil = undefined;
      return;
    }
    this.stats.failedPolls++;
    // A dead link is the bus's problem (it backs off itself), not this device's.
    if (!silence || !isTimeout(silence)) return;
    this.consecutiveFailures++;
    const b = this.o.backoff ?? {};
    const deadAfter = b.deadAfter ?? 2;
    if (this.consecutiveFailures < deadAfter) return;
    const wait = backoffMs(
      this.consecutiveFailures - deadAfter + 1,
      b.initialMs ?? Math.max(1000, this.o.periodMs),
      b.maxMs ?? 60_000,
      this.o.random,
    );
    this.backoffUntil = this.o.clock.monotonic() + wait;
    this.o.logger.warn(
      { device: this.o.id, failures: this.consecutiveFailures, backoffMs: Math.round(wait) },
      'device silent: backing off',
    );
  }

  /** B readings for a slot the device was not polled in (backed off, or the slot overran), at `ts`. */
  private unpolled(code: 'ACQ_DEVICE_BACKOFF' | 'ACQ_OVERRUN', message: string, ts: number): ReadingDraft[] {
    const error = new LantianError(code, message, { context: { device: this.o.id } });
    return toDrafts(
      this.o.id,
      cycleOutcomes(
        this.o.profile,
        this.o.points,
        this.reads,
        this.reads.map(() => ({ ok: false, error, ts })),
      ),
    );
  }

  /**
   * One scheduled poll, its readings delivered; false when a stop cut it short. Its own frame, so
   * the loop in `run` does not hold the last poll's readings while it sleeps to the next slot.
   */
  private async pollAndDeliver(probe: boolean, signal: AbortSignal): Promise<boolean> {
    const drafts = await this.poll(probe, signal);
    // A poll cut short by a stop is discarded: its failures are the stop's, not the device's.
    if (drafts === undefined || signal.aborted) return false;
    this.deliver(drafts);
    return true;
  }

  /** Hands readings on, with the overrun slots not recorded yet on each of them. */
  private deliver(drafts: ReadingDraft[]): void {
    const missed = this.missed;
    if (missed) {
      for (const d of drafts) d.missed = missed;
      this.missed = undefined;
    }
    try {
      this.o.onReadings(drafts);
    } catch (e) {
      // The sink's failure must not stop acquisition; it is counted and logged, never hidden.
      this.stats.sinkErrors++;
      this.o.logger.error({ device: this.o.id, err: e }, 'reading sink failed');
    }
  }

  health(): DeviceHealth {
    const now = this.o.clock.monotonic();
    let state: DeviceState = this.stats.polls === 0 ? 'unknown' : 'ok';
    if (this.backoffUntil !== undefined) state = 'backoff';
    else if (!this.lastAnswered) state = 'failing';
    return {
      device: this.o.id,
      bus: this.o.bus.name,
      unitId: this.o.unitId,
      state,
      ...this.o.bus.deviceHealth(this.o.id),
      ...this.stats,
      consecutiveFailures: this.consecutiveFailures,
      nextProbeTs:
        this.backoffUntil === undefined
          ? undefined
          : Math.round(this.o.clock.now() + (this.backoffUntil - now)),
      lagMs: this.lag.percentiles(),
      jitterMs: this.jitter.percentiles(),
      plannedReads: this.reads.length,
      planStrategy: this.strategy,
    };
  }
}
