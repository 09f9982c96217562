/**
 * One step of the scale benchmark: simulators, the gateway on a fresh site config and log, a
 * warm-up, then a measured window: readings delivered to the subscriber, the gateway's CPU and
 * RSS, the simulators' and the broker's CPU, overrun slots, and how far the uplink fell behind.
 * Everything the step started is stopped and its folder removed before it returns.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchBroker } from './broker.js';
import { heapCapFor, startGateway } from './gateway.js';
import type { StepOutcome } from './knee.js';
import { CpuMeter, rssMb } from '../procfs.js';
import { startSimGroup, type SimBus, type SimGroup } from './sim.js';
import type { Counts, Subscriber } from './subscriber.js';

/** A device shape: a bench profile whose float32 points are read in one request. */
export interface Shape {
  profile: string;
  points: number;
}

export const SHAPES = {
  p10: { profile: 'bench.scale-10f', points: 10 },
  p50: { profile: 'bench.scale-50f', points: 50 },
} as const satisfies Record<string, Shape>;

export interface StepSpec {
  label: string;
  shape: Shape;
  devices: number;
  periodMs: number;
  heapCap: boolean;
  /** V8 flags instead of README.md's cap for the step's points and rate (with `heapCap`). */
  flags?: string;
  /** Acquisition in its worker thread (`gateway.acquisitionThread`). */
  thread: boolean;
  /** `maxInFlight` of every bus: requests outstanding at once on a connection; default 1. */
  maxInFlight?: number;
  warmMs: number;
  windowMs: number;
}

export interface StepResult extends StepOutcome {
  label: string;
  points: number;
  devices: number;
  buses: number;
  periodMs: number;
  heapCap: boolean;
  /** V8 flags the gateway ran with (the README's cap for its points and rate), or null without a cap. */
  heapFlags: string | null;
  thread: boolean;
  maxInFlight: number;
  overrunPerSec: number;
  /** Readings without a value (overrun slots ride on the next readings: counted in `overrunPerSec` only). */
  unvaluedPerSec: number;
  /** Data messages the subscriber received per second. */
  messagesPerSec: number;
  /**
   * Share of the window acquisition was held back by admission (health's
   * `acquisition.admission.heldMs`), %; null without the figure.
   */
  heldPct: number | null;
  /** Records the log committed per second (from health's `log.lastSeq`). */
  loggedPerSec: number;
  /** CPU in % of one core (two busy cores = 200 %). */
  gatewayCpuPct: number;
  /** Gateway CPU time per delivered reading (µs): what a reading costs, whatever share of the cores the gateway got. */
  gatewayCpuMicrosPerReading: number | null;
  gatewayRssMb: number;
  gatewayRssMaxMb: number;
  simCpuPct: number;
  subscriberCpuPct: number;
  brokerCpuPct: number | null;
  lagStartMs: number | null;
  lagEndMs: number | null;
  backlogEnd: number | null;
  /** The machine's 1-minute load average at the window's end (2 cores: above 2, processes wait for a core). */
  loadAverage1m: number;
}

/** Buses of Modbus TCP: at least this many, more when they would hold more units each. */
const MIN_BUSES = 10;
const MAX_UNITS_PER_BUS = 200;
/** Processes the simulated buses are spread over. */
const SIM_PROCESSES = 2;
/** Longest wait for the gateway's first data message after it starts. */
const FIRST_DATA_MS = 60_000;

export interface StepEnv {
  tmpRoot: string;
  broker: BenchBroker;
  subscriber: Subscriber;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

/** `devices` units spread evenly over the buses, unit ids from 1 on each. */
export function layout(devices: number): SimBus[] {
  const n = Math.max(MIN_BUSES, Math.ceil(devices / MAX_UNITS_PER_BUS));
  return Array.from({ length: n }, (_, i) => ({
    name: `b${String(i + 1).padStart(2, '0')}`,
    units: Array.from({ length: Math.floor(devices / n) + (i < devices % n ? 1 : 0) }, (_, k) => k + 1),
  })).filter((b) => b.units.length > 0);
}

export function offeredPerSec(s: Pick<StepSpec, 'shape' | 'devices' | 'periodMs'>): number {
  return (s.devices * s.shape.points * 1000) / s.periodMs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
}

/** The V8 flags the step's gateway runs with: the README's cap for its points and rate, or none. */
export function heapFlags(
  spec: Pick<StepSpec, 'heapCap' | 'flags' | 'devices' | 'shape' | 'periodMs'>,
): string | undefined {
  if (!spec.heapCap) return undefined;
  return spec.flags ?? heapCapFor(spec.devices * spec.shape.points, offeredPerSec(spec));
}

export async function runStep(spec: StepSpec, env: StepEnv): Promise<StepResult> {
  const dir = mkdtempSync(join(env.tmpRoot, `${spec.label}-`));
  const buses = layout(spec.devices);
  const groups: SimGroup[] = [];
  try {
    const per = Math.ceil(buses.length / SIM_PROCESSES);
    for (let i = 0; i < buses.length; i += per)
      groups.push(await startSimGroup(spec.shape.profile, buses.slice(i, i + per)));
    const gatewayId = `gw-${spec.label}`;
    const gw = startGateway(
      dir,
      {
        gateway: gatewayId,
        profile: spec.shape.profile,
        periodMs: spec.periodMs,
        buses,
        ports: new Map(groups.flatMap((g) => [...g.ports])),
        brokerUrl: env.broker.url,
        thread: spec.thread,
        maxInFlight: spec.maxInFlight ?? 1,
      },
      heapFlags(spec),
    );
    try {
      const started = performance.now();
      while ((await env.subscriber.counts(gatewayId)).firstDataMs === null) {
        if (!gw.alive()) return nothing(spec, buses.length, `before it published: ${lastLine(gw.output())}`);
        if (performance.now() - started > FIRST_DATA_MS)
          return nothing(
            spec,
            buses.length,
            `no data within ${FIRST_DATA_MS / 1000} s (stopped by the benchmark)`,
          );
        await sleep(200);
      }
      await sleep(spec.warmMs);
      const c0 = await env.subscriber.counts(gatewayId);
      const meters = {
        gateway: new CpuMeter([gw.pid]),
        sim: new CpuMeter(groups.map((g) => g.pid)),
        subscriber: new CpuMeter([env.subscriber.pid]),
        broker: env.broker.pid === undefined ? undefined : new CpuMeter([env.broker.pid]),
      };
      const rss: number[] = [];
      const end = performance.now() + spec.windowMs;
      while (performance.now() < end && gw.alive()) {
        await sleep(Math.min(1000, end - performance.now()));
        const r = rssMb(gw.pid);
        if (r !== undefined) rss.push(r);
      }
      const c1 = await env.subscriber.counts(gatewayId);
      const cpu = {
        gateway: meters.gateway.percent(),
        sim: meters.sim.percent(),
        subscriber: meters.subscriber.percent(),
        broker: meters.broker?.percent(),
      };
      return figures(spec, buses.length, c0, c1, cpu, rss, gw.alive() ? undefined : lastLine(gw.output()));
    } finally {
      await gw.stop();
    }
  } finally {
    await Promise.all(groups.map((g) => g.stop()));
    // For a closer look at a step: its folder (site config, the gateway's output, the log) kept.
    const keep = process.env.LANTIAN_BENCH_KEEP;
    if (keep) cpSync(dir, join(keep, spec.label), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A step in which the gateway delivered nothing. */
function nothing(spec: StepSpec, buses: number, gatewayExited: string): StepResult {
  const zero = {
    atMs: 0,
    firstDataMs: null,
    messages: 0,
    readings: 0,
    valued: 0,
    overrun: 0,
    recentLagMs: null,
    health: null,
  };
  return figures(
    spec,
    buses,
    zero,
    { ...zero, atMs: 1000 },
    { gateway: NaN, sim: NaN, subscriber: NaN, broker: undefined },
    [],
    gatewayExited,
  );
}

function figures(
  spec: StepSpec,
  buses: number,
  c0: Counts,
  c1: Counts,
  cpu: { gateway: number; sim: number; subscriber: number; broker: number | undefined },
  rss: number[],
  gatewayExited: string | undefined,
): StepResult {
  const seconds = (c1.atMs - c0.atMs) / 1000;
  const rate = (k: 'readings' | 'valued' | 'overrun' | 'messages') => (c1[k] - c0[k]) / seconds;
  const lagGrowthMs =
    c0.recentLagMs === null || c1.recentLagMs === null ? 0 : c1.recentLagMs - c0.recentLagMs;
  return {
    label: spec.label,
    points: spec.shape.points,
    devices: spec.devices,
    buses,
    periodMs: spec.periodMs,
    heapCap: spec.heapCap,
    heapFlags: heapFlags(spec) ?? null,
    thread: spec.thread,
    maxInFlight: spec.maxInFlight ?? 1,
    offeredPerSec: offeredPerSec(spec),
    deliveredPerSec: round(rate('valued')),
    overrunPerSec: round(rate('overrun')),
    unvaluedPerSec: round(rate('readings') - rate('valued')),
    messagesPerSec: round(rate('messages')),
    loggedPerSec: round(((c1.health?.lastSeq ?? 0) - (c0.health?.lastSeq ?? 0)) / seconds),
    heldPct:
      c0.health?.heldMs == null || c1.health?.heldMs == null
        ? null
        : round(((c1.health.heldMs - c0.health.heldMs) / (seconds * 1000)) * 100),
    gatewayCpuPct: round(cpu.gateway),
    gatewayCpuMicrosPerReading: rate('valued') > 0 ? round((cpu.gateway * 10_000) / rate('valued')) : null,
    gatewayRssMb: round(median(rss), 1),
    gatewayRssMaxMb: rss.length === 0 ? NaN : round(Math.max(...rss), 1),
    simCpuPct: round(cpu.sim),
    subscriberCpuPct: round(cpu.subscriber),
    brokerCpuPct: cpu.broker === undefined ? null : round(cpu.broker),
    lagStartMs: c0.recentLagMs,
    lagEndMs: c1.recentLagMs,
    lagGrowthMs,
    backlogEnd: c1.health?.backlog ?? null,
    loadAverage1m: round(loadavg()[0]!, 1),
    backlogGrowth: (c1.health?.backlog ?? 0) - (c0.health?.backlog ?? 0),
    ...(gatewayExited === undefined ? {} : { gatewayExited }),
  };
}
