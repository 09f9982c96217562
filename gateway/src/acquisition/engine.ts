/**
 * The acquisition engine: buses with their devices -> transports, buses, plans and pollers.
 * Options are this module's own types; the site config maps onto them (see docs/acquisition.md).
 * Readings leave through one callback, `onReadings(drafts)`, once per device poll.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { LantianError } from '../core/errors.js';
import { childLogger, silentLogger, type Logger } from '../core/logger.js';
import type { ReadingDraft } from '../core/reading.js';
import type { Profile } from '../profiles/schema.js';
import { Bus } from './bus.js';
import { polledPoints } from './device.js';
import type { BusHealth, DeviceHealth } from './health.js';
import { interFrameSilenceMs } from './line.js';
import type { ReconnectOptions } from './link.js';
import { serialCost, tcpCost, type PlanStrategy, type PlannedRead, type RequestCost } from './planner.js';
import { DevicePoller, type BackoffOptions } from './scheduler.js';
import { describeLink, modbusTransport } from './transport/modbus.js';
import { writePoint, type WriteOutcome, type WriteTarget } from './write.js';
import type { LinkSettings, TransportFactory } from './transport/types.js';

export interface DeviceOptions {
  /** Device id from the site config (`stack1-uv`). */
  id: string;
  profile: Profile;
  /** Unit id (slave address) 0–255; default the profile's factory unit id. */
  unitId?: number;
  /** Poll period, ms (≥ 10). */
  periodMs: number;
  /** Reply timeout per attempt, ms; default the profile's `quirks.timeoutMs`. */
  timeoutMs?: number;
  /** Further attempts per read after a timeout or garbled reply, 0–5; default 1. */
  retries?: number;
  /** Point keys to poll; default every measurement and status point of the profile. */
  points?: string[];
  /** Planner strategy: `cost` (default), `contiguous` or `per-point` (see planner.ts). */
  plan?: PlanStrategy;
  backoff?: BackoffOptions;
}

export interface BusConfig {
  /** Bus name from the site config (`rs485-1`). */
  name: string;
  link: LinkSettings;
  /**
   * Silence kept between frames, ms. Default: t3.5 of the line on a local RTU port; 0 over TCP,
   * where a device server frames the serial side itself (docs/acquisition.md).
   */
  silenceMs?: number;
  /** Network round trip per request for the planner's cost model (tcp, rtu-tcp), ms; default 2. */
  roundTripMs?: number;
  reconnect?: ReconnectOptions;
  /** Consecutive timeouts after which the link is reopened; 0 never; default 5. */
  recycleAfterTimeouts?: number;
  devices: DeviceOptions[];
}

export interface AcquisitionOptions {
  buses: BusConfig[];
}

export interface AcquisitionDeps {
  onReadings: (drafts: ReadingDraft[]) => void;
  /**
   * Asked before every scheduled poll: a promise holds the poll back until it settles (whoever
   * takes the readings is behind), undefined lets it go. The slots that pass meanwhile are
   * recorded as overrun. Must settle when `signal` aborts.
   */
  gate?: (signal: AbortSignal) => Promise<void> | undefined;
  clock?: Clock;
  logger?: Logger;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  /** Builds transports; default the Modbus transport (RTU, TCP, RTU over TCP). Tests pass in-memory doubles. */
  transportFactory?: TransportFactory;
}

export interface AcquisitionHealth {
  buses: BusHealth[];
  devices: DeviceHealth[];
}

const DEFAULT_LINE = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;

/** The planner's cost model for a device of `profile` on `bus`. */
export function costFor(bus: Pick<BusConfig, 'link' | 'roundTripMs'>, profile: Profile): RequestCost {
  const { turnaroundMs, minGapMs } = profile.quirks;
  const rtt = bus.roundTripMs ?? 2;
  switch (bus.link.kind) {
    case 'rtu':
      return serialCost(bus.link.line, turnaroundMs, minGapMs);
    case 'rtu-tcp': {
      const c = serialCost(bus.link.line ?? DEFAULT_LINE, turnaroundMs, minGapMs);
      return { ...c, requestMs: c.requestMs + rtt };
    }
    case 'tcp':
      return tcpCost(turnaroundMs, rtt, minGapMs);
  }
}

function invalid(message: string, context: Record<string, unknown>): LantianError {
  return new LantianError('ACQ_OPTIONS_INVALID', message, { context });
}

/** Refuses duplicate buses, devices, unit ids on one bus, and out-of-range periods and retries. */
export function validateOptions(options: AcquisitionOptions): void {
  const buses = new Set<string>();
  const devices = new Set<string>();
  for (const b of options.buses) {
    if (buses.has(b.name)) throw invalid(`bus "${b.name}" is defined twice`, { bus: b.name });
    buses.add(b.name);
    const units = new Map<number, string>();
    for (const d of b.devices) {
      if (devices.has(d.id)) throw invalid(`device "${d.id}" is defined twice`, { device: d.id });
      devices.add(d.id);
      const unit = d.unitId ?? d.profile.serial.unitId;
      const other = units.get(unit);
      if (other) {
        throw invalid(`devices "${other}" and "${d.id}" share unit id ${unit} on bus "${b.name}"`, {
          bus: b.name,
          devices: [other, d.id],
          unitId: unit,
        });
      }
      units.set(unit, d.id);
      if (!(d.periodMs >= 10))
        throw invalid(`device "${d.id}": periodMs must be at least 10`, { device: d.id });
      if (d.retries !== undefined && !(d.retries >= 0 && d.retries <= 5)) {
        throw invalid(`device "${d.id}": retries must be 0-5`, { device: d.id });
      }
    }
  }
}

/**
 * One bus as the engine builds it (transport, silence, reconnects). Exported for hosts that add
 * devices to a line one by one (the Node-RED nodes); the engine itself builds all at once.
 */
export function createBus(b: Omit<BusConfig, 'devices'>, deps: Omit<AcquisitionDeps, 'onReadings'>): Bus {
  const clock = deps.clock ?? systemClock;
  const factory = deps.transportFactory ?? modbusTransport;
  return new Bus({
    name: b.name,
    where: describeLink(b.link),
    transport: factory(b.link),
    silenceMs: b.silenceMs ?? (b.link.kind === 'rtu' ? interFrameSilenceMs(b.link.line) : 0),
    clock,
    logger: childLogger(deps.logger ?? silentLogger, 'bus', { bus: b.name }),
    random: deps.random ?? Math.random,
    reconnect: b.reconnect,
    recycleAfterTimeouts: b.recycleAfterTimeouts,
    // Polling the clock for the last 1.5 ms of a silence needs the real clock.
    fineWaitMs: clock === systemClock ? 1.5 : 0,
    ...(b.link.kind === 'tcp' && b.link.maxInFlight !== undefined ? { maxInFlight: b.link.maxInFlight } : {}),
  });
}

/** One device's poller on `bus`, with the engine's defaults. */
export function createPoller(
  bus: Bus,
  b: Pick<BusConfig, 'link' | 'roundTripMs'>,
  d: DeviceOptions,
  deps: AcquisitionDeps,
): DevicePoller {
  return new DevicePoller({
    id: d.id,
    bus,
    profile: d.profile,
    unitId: d.unitId ?? d.profile.serial.unitId,
    periodMs: d.periodMs,
    timeoutMs: d.timeoutMs ?? d.profile.quirks.timeoutMs,
    retries: d.retries ?? 1,
    points: polledPoints(d.profile, d.points),
    cost: costFor(b, d.profile),
    plan: d.plan,
    backoff: d.backoff,
    clock: deps.clock ?? systemClock,
    logger: childLogger(deps.logger ?? silentLogger, 'acq', { device: d.id }),
    random: deps.random ?? Math.random,
    onReadings: deps.onReadings,
    ...(deps.gate ? { gate: deps.gate } : {}),
  });
}

/** What the gateway and its commands use of acquisition, in process or in a worker thread (threaded.ts). */
export interface AcquisitionControl {
  start(): void;
  stop(): Promise<void>;
  restart(): Promise<void>;
  setPeriod(device: string, periodMs: number | undefined): void;
  health(): AcquisitionHealth;
  plans(): { device: string; reads: readonly PlannedRead[] }[];
  profileOf(device: string): Profile | undefined;
  write(device: string, point: string, value: number): Promise<WriteOutcome>;
  /** Stops for good (and ends the thread, if there is one). */
  close(): Promise<void>;
}

export class Acquisition implements AcquisitionControl {
  private readonly buses: Bus[] = [];
  private readonly pollers: DevicePoller[] = [];
  private readonly targets = new Map<string, WriteTarget>();
  /** One controller per poller: a shared signal would carry a listener per device at once. */
  private aborts: AbortController[] | undefined;
  private loops: Promise<void>[] = [];
  private readonly clock: Clock;

  constructor(options: AcquisitionOptions, deps: AcquisitionDeps) {
    validateOptions(options);
    this.clock = deps.clock ?? systemClock;
    for (const b of options.buses) {
      const bus = createBus(b, deps);
      this.buses.push(bus);
      for (const d of b.devices) {
        this.pollers.push(createPoller(bus, b, d, deps));
        const timeoutMs = d.timeoutMs ?? d.profile.quirks.timeoutMs;
        this.targets.set(d.id, {
          device: d.id,
          bus,
          unitId: d.unitId ?? d.profile.serial.unitId,
          profile: d.profile,
          timeoutMs,
        });
      }
    }
  }

  /** Starts periodic polling; every device is due at once, the buses serialise them. */
  start(): void {
    if (this.aborts) return;
    const aborts = this.pollers.map(() => new AbortController());
    this.aborts = aborts;
    const first = this.clock.monotonic();
    this.loops = this.pollers.map((p, i) => p.run(aborts[i]!.signal, first));
  }

  /** Polls every device once, outside the schedule; the readings are returned, not sent to `onReadings`. */
  async pollOnce(): Promise<Map<string, ReadingDraft[]>> {
    const out = new Map<string, ReadingDraft[]>();
    await Promise.all(
      this.pollers.map(async (p) => {
        const drafts = await p.poll();
        if (drafts) out.set(p.id, drafts);
      }),
    );
    return out;
  }

  /** Polls `device` every `periodMs` from its next slot on; undefined: its configured period again. */
  setPeriod(device: string, periodMs: number | undefined): void {
    for (const p of this.pollers) if (p.id === device) p.setPeriod(periodMs);
  }

  /** The reads each device's poll issues, for commissioning and the CLI. */
  plans(): { device: string; reads: readonly PlannedRead[] }[] {
    return this.pollers.map((p) => ({ device: p.id, reads: p.plan }));
  }

  /** The profile of a polled device, or undefined. */
  profileOf(device: string): Profile | undefined {
    return this.targets.get(device)?.profile;
  }

  /**
   * Writes `value` to `point` of `device` through its bus and reads it back (write.ts). The
   * caller has checked that the point is writable; an unknown device or point is ACQ_OPTIONS_INVALID.
   */
  async write(device: string, point: string, value: number): Promise<WriteOutcome> {
    const target = this.targets.get(device);
    const p = target?.profile.points.find((x) => x.key === point);
    if (!target || !p) throw invalid(`no polled point ${device}.${point} to write`, { device, point });
    return writePoint(target, p, value);
  }

  health(): AcquisitionHealth {
    return { buses: this.buses.map((b) => b.health()), devices: this.pollers.map((p) => p.health()) };
  }

  /** Stops polling, abandons queued reads, closes every link. */
  async stop(): Promise<void> {
    for (const a of this.aborts ?? []) a.abort();
    await Promise.all(this.buses.map((b) => b.close()));
    await Promise.all(this.loops);
    this.loops = [];
    this.aborts = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
  }

  /**
   * Stops as `stop` does (a poll cut short is discarded, not counted as a failure) and starts
   * again on freshly opened links, every device due at once. Health counters carry on.
   */
  async restart(): Promise<void> {
    await this.stop();
    for (const b of this.buses) b.reopen();
    this.start();
  }
}
