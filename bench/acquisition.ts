/**
 * `npm run bench:acquisition`: the acquisition engine against the simulator's wire model on the
 * reference bus (9600 8N1, three CEMS analyzers with ten float32 points in registers 0-11 and
 * 100-107, 10 ms turnaround; test/fixtures/acquisition/profiles/bench/cems-10f.yaml).
 *
 * - busEfficiency: polled as fast as possible, transactions per second achieved divided by the
 *   wire-model maximum for the same mix of transactions (the simulator's own statistics).
 * - coalescingGain: points per second with the planner over points per second with one request
 *   per point, same devices, same bus.
 * - deadDeviceCost: how much a silent analyzer lowers the other two's points per second, against
 *   the same two alone on the bus; in the first minute (back-off growing) and in steady state.
 * - period jitter at a 1 s period, and the same efficiency on a pty (a local serial line, where
 *   the gateway keeps the t3.5 silence itself).
 *
 * - deadNeighbourDelayMaxMs: at a 1 s period, the worst completion of a healthy analyzer's poll
 *   after its due time with a dead neighbour being probed, beyond the same figure without it.
 * - gateway turnaround: a reply received -> the next request written, p50/p99, measured in the
 *   gateway's transport while polling as fast as possible.
 *
 * The simulator runs in its own process (bench/sim-process.ts) over real sockets and ptys, so it
 * does not share the gateway's event loop. Efficiency is against the simulator's wire model (its
 * modelled time for the same transactions), not against a measured physical line. Figures are
 * ratios within one run; the machine is shared, so the simulator's reply lateness is reported
 * alongside. Set BENCH_QUICK=1 for a short smoke run (figures then less stable).
 */
import { join } from 'node:path';
import type { ReadingDraft } from '../gateway/src/core/reading.js';
import { loadProfileFile } from '../gateway/src/profiles/index.js';
import { Acquisition, type DeviceOptions } from '../gateway/src/acquisition/engine.js';
import type { PlanStrategy } from '../gateway/src/acquisition/planner.js';
import { ModbusTransport } from '../gateway/src/acquisition/transport/modbus.js';
import type { BackoffOptions } from '../gateway/src/acquisition/scheduler.js';
import type { BusStatsSnapshot } from '../hardware-sim/src/index.js';
import { FIXTURE_PROFILES, linkTo, type SimKind } from '../test/fixtures/acquisition/sim.js';
import { writeResults, type BenchRow } from './report.js';
import { SimProcess } from './sim-process.js';

const QUICK = process.env.BENCH_QUICK === '1';
const WARM_MS = QUICK ? 1000 : 3000;
const WINDOW_MS = QUICK ? 5000 : 30_000;
const DEAD_STEADY_MS = QUICK ? 10_000 : 120_000;
const profile = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const POINTS = profile.points.length;
/** The wire model's limits for the reference bus (docs/acquisition.md). */
const LIMIT = { plannedPointsPerSec: (3 * POINTS) / 0.31, perPointPointsPerSec: (3 * POINTS) / 1.05 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longer than any poll on the reference bus (one request per point: about 1.1 s). */
const SETTLE_MS = 2500;

interface Run {
  sim: SimProcess;
  engine: Acquisition;
  readings: ReadingDraft[];
  /** The gateway's transports, for their turnaround samples. */
  transports: ModbusTransport[];
  /** Monotonic ms the engine started: every device's first poll is due then. */
  startedAt: number;
  /** Per device: ms from each poll's due time to its readings' delivery. */
  pollDelays: Map<string, { at: number; delayMs: number }[]>;
  stop(): Promise<void>;
}

/** Starts a simulated bus of `units` analyzers and an engine polling `polled` of them. */
async function start(
  kind: SimKind,
  units: number[],
  opts: { polled?: number[]; periodMs?: number; plan?: PlanStrategy; backoff?: BackoffOptions } = {},
): Promise<Run> {
  const sim = await SimProcess.start(
    [{ name: 'ref', kind }],
    units.map((unit) => ({ id: `a${unit}`, profile: profile.id, unit, bus: 'ref', coldStart: false })),
  );
  const readings: ReadingDraft[] = [];
  const transports: ModbusTransport[] = [];
  const pollDelays = new Map<string, { at: number; delayMs: number }[]>();
  const periodMs = opts.periodMs ?? 10;
  const devices = (opts.polled ?? units).map((unit): DeviceOptions => ({
    id: `a${unit}`,
    profile,
    unitId: unit,
    periodMs,
    ...(opts.plan ? { plan: opts.plan } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  }));
  let startedAt = 0;
  const engine = new Acquisition(
    { buses: [{ name: 'ref', link: linkTo(sim, 'ref'), devices }] },
    {
      onReadings: (d) => {
        readings.push(...d);
        const device = d[0]?.device;
        if (device === undefined || d[0]?.quality?.[0] === 'overrun') return;
        // Every poll is due on the grid startedAt + k · period; one poll ends within a period.
        const since = performance.now() - startedAt;
        const list = pollDelays.get(device) ?? [];
        list.push({ at: Date.now(), delayMs: since - Math.floor(since / periodMs) * periodMs });
        pollDelays.set(device, list);
      },
      transportFactory: (link) => {
        const t = new ModbusTransport(link);
        transports.push(t);
        return t;
      },
    },
  );
  startedAt = performance.now();
  engine.start();
  return {
    sim,
    engine,
    readings,
    transports,
    startedAt,
    pollDelays,
    stop: async () => {
      await engine.stop();
      await sim.stop();
    },
  };
}

/**
 * Good (flag N) points per second of `devices` whose reply came within [from, to) wall-clock ms.
 * Readings leave at the end of each poll stamped with their reply's time, so count only once the
 * polls in flight at `to` have finished (SETTLE_MS later).
 */
function pointsPerSec(readings: ReadingDraft[], devices: string[], from: number, to: number): number {
  const n = readings.filter((r) => r.flag === 'N' && devices.includes(r.device) && r.ts >= from && r.ts < to);
  return (n.length * 1000) / (to - from);
}

/** Polls as fast as possible for the window; returns the simulator's statistics and points/s. */
async function saturated(kind: SimKind, plan?: PlanStrategy) {
  const run = await start(kind, [1, 2, 3], plan ? { plan } : {});
  await sleep(WARM_MS);
  await run.sim.resetStats('ref');
  const from = Date.now();
  await sleep(WINDOW_MS);
  const to = Date.now();
  const stats = await run.sim.stats('ref');
  await sleep(SETTLE_MS);
  const pps = pointsPerSec(run.readings, ['a1', 'a2', 'a3'], from, to);
  const turnaround = run.transports[0]?.turnaround.percentiles();
  await run.stop();
  return { stats, pps, turnaround };
}

/** Others' points/s with a silent third analyzer, against the two alone. */
async function deadDevice() {
  const alone = await start('rtu-tcp', [1, 2], { polled: [1, 2] });
  await sleep(WARM_MS);
  const t0 = Date.now();
  await sleep(WINDOW_MS);
  const t1 = Date.now();
  await sleep(SETTLE_MS);
  const baseline = pointsPerSec(alone.readings, ['a1', 'a2'], t0, t1);
  await alone.stop();

  const run = await start('rtu-tcp', [1, 2, 3], { polled: [1, 2, 3] });
  await run.sim.inject({ kind: 'no-answer', device: 'a3' });
  const timeouts = () => run.engine.health().devices.find((d) => d.device === 'a3')!.timeouts;
  const begin = Date.now();
  await sleep(60_000);
  const steadyFrom = Date.now();
  const timeoutsFirstMinute = timeouts();
  await sleep(DEAD_STEADY_MS);
  const steadyTo = Date.now();
  const timeoutsSteady = timeouts() - timeoutsFirstMinute;
  await sleep(SETTLE_MS);
  const firstMinute = pointsPerSec(run.readings, ['a1', 'a2'], begin, steadyFrom);
  const steady = pointsPerSec(run.readings, ['a1', 'a2'], steadyFrom, steadyTo);
  const dead = run.engine.health().devices.find((d) => d.device === 'a3')!;
  await run.stop();
  return {
    baselinePointsPerSec: baseline,
    firstMinutePointsPerSec: firstMinute,
    steadyPointsPerSec: steady,
    costFirstMinute: 1 - firstMinute / baseline,
    costSteady: 1 - steady / baseline,
    /** Share of the bus the dead device's timeouts took: its timeout budget spent. */
    budgetFirstMinute: (timeoutsFirstMinute * profile.quirks.timeoutMs) / (steadyFrom - begin),
    budgetSteady: (timeoutsSteady * profile.quirks.timeoutMs) / (steadyTo - steadyFrom),
    timeoutsFirstMinute,
    timeoutsSteady,
    deadState: dead.state,
    timeoutMs: profile.quirks.timeoutMs,
  };
}

/**
 * The worst delay of a healthy analyzer's poll (due time -> readings delivered) at a 1 s period
 * with a dead third analyzer on the bus, once it is backed off, beyond the worst without it. The
 * back-off is capped at 4 s so the window holds many probes.
 */
async function deadNeighbourDelay() {
  const skipMs = QUICK ? 8000 : 15_000;
  const windowMs = QUICK ? 10_000 : 30_000;
  const worst = async (dead: boolean) => {
    const run = await start('rtu-tcp', [1, 2, 3], {
      polled: dead ? [1, 2, 3] : [1, 2],
      periodMs: 1000,
      backoff: { initialMs: 1000, maxMs: 4000 },
    });
    if (dead) await run.sim.inject({ kind: 'no-answer', device: 'a3' });
    await sleep(skipMs);
    const from = Date.now();
    await sleep(windowMs);
    const probes = run.engine.health().devices.find((d) => d.device === 'a3')?.requests ?? 0;
    await run.stop();
    const delays = ['a1', 'a2'].flatMap((d) =>
      (run.pollDelays.get(d) ?? []).filter((p) => p.at >= from).map((p) => p.delayMs),
    );
    return { max: Math.max(...delays), polls: delays.length, probes };
  };
  const alone = await worst(false);
  const withDead = await worst(true);
  return {
    deadNeighbourDelayMaxMs: Math.max(0, withDead.max - alone.max),
    worstPollMsAlone: alone.max,
    worstPollMsWithDead: withDead.max,
    healthyPolls: withDead.polls,
    windowMs,
  };
}

/** Lag and jitter of poll starts at a 1 s period (the bus is far from saturated). */
async function jitter() {
  const run = await start('rtu-tcp', [1, 2, 3], { periodMs: 1000 });
  await sleep(QUICK ? 5000 : 20_000);
  const h = run.engine.health().devices;
  await run.stop();
  const worst = (f: 'lagMs' | 'jitterMs', q: 'p50' | 'p95') => Math.max(...h.map((d) => d[f]?.[q] ?? 0));
  return {
    lagP50: worst('lagMs', 'p50'),
    lagP95: worst('lagMs', 'p95'),
    jitterP95: worst('jitterMs', 'p95'),
  };
}

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const late = (s: BusStatsSnapshot) =>
  `simulator replies late by median ${f2(s.replyLateMs.median)} ms, p90 ${f2(s.replyLateMs.p90)} ms`;

async function main(): Promise<void> {
  const planned = await saturated('rtu-tcp');
  const perPoint = await saturated('rtu-tcp', 'per-point');
  const pty = await saturated('pty');
  const timing = await jitter();
  const neighbour = await deadNeighbourDelay();
  const dead = await deadDevice();
  const turnaround = planned.turnaround ?? { p50: NaN, p95: NaN, p99: NaN, max: NaN };

  const busEfficiency = planned.stats.efficiency ?? 0;
  const coalescingGain = planned.pps / perPoint.pps;
  const results = {
    quick: QUICK,
    windowMs: WINDOW_MS,
    busEfficiency,
    coalescingGain,
    deadDeviceCost: dead.costSteady,
    deadDeviceCostFirstMinute: dead.costFirstMinute,
    deadNeighbourDelayMaxMs: neighbour.deadNeighbourDelayMaxMs,
    deadNeighbour: neighbour,
    gatewayTurnaroundMs: turnaround,
    efficiencyAgainst: "the simulator's wire model (simulator in its own process)",
    pointsPerSec: { planned: planned.pps, perPoint: perPoint.pps, limits: LIMIT },
    transactionsPerSec: {
      achieved: planned.stats.servedRate,
      wireModelMax: planned.stats.theoreticalMaxRate,
    },
    ptyBusEfficiency: pty.stats.efficiency ?? 0,
    perPointBusEfficiency: perPoint.stats.efficiency ?? 0,
    jitter: timing,
    deadDevice: dead,
    simulator: { planned: planned.stats, perPoint: perPoint.stats, pty: pty.stats },
  };
  const rows: BenchRow[] = [
    {
      metric: 'busEfficiency (RTU over TCP, 9600 8N1)',
      value: f3(busEfficiency),
      target: '≥ 0.95',
      note: `against the simulator's wire model (simulator in its own process): ${f2(planned.stats.servedRate)} of ${f2(planned.stats.theoreticalMaxRate ?? 0)} transactions/s; ${late(planned.stats)}`,
    },
    {
      metric: 'gateway turnaround, reply received -> next request sent (p50 / p99)',
      value: `${f2(turnaround.p50)} / ${f2(turnaround.p99)} ms`,
      note: `RTU over TCP polled as fast as possible; max ${f2(turnaround.max)} ms`,
    },
    {
      metric: 'deadNeighbourDelayMaxMs',
      value: `${f2(neighbour.deadNeighbourDelayMaxMs)} ms`,
      target: '< the 500 ms timeout',
      note: `worst healthy poll (due -> delivered) ${f2(neighbour.worstPollMsWithDead)} ms with a dead neighbour probed every ≤ 4 s vs ${f2(neighbour.worstPollMsAlone)} ms alone; ${neighbour.healthyPolls} polls, 1 s period`,
    },
    {
      metric: 'coalescingGain',
      value: f2(coalescingGain),
      target: '≥ 3.2 (wire model 3.38)',
      note: `${f2(planned.pps)} points/s planned (limit ${f2(LIMIT.plannedPointsPerSec)}) vs ${f2(perPoint.pps)} one request per point (limit ${f2(LIMIT.perPointPointsPerSec)})`,
    },
    {
      metric: 'deadDeviceCost (steady state)',
      value: f3(dead.costSteady),
      target: 'within the timeout budget',
      note: `one silent analyzer of three (${dead.timeoutMs} ms timeout, 1 retry, back-off up to 60 s); its ${dead.timeoutsSteady} timeouts took ${f3(dead.budgetSteady)} of the bus; the other two ${f2(dead.steadyPointsPerSec)} vs ${f2(dead.baselinePointsPerSec)} points/s alone`,
    },
    {
      metric: 'deadDeviceCost (first minute)',
      value: f3(dead.costFirstMinute),
      target: 'within the timeout budget',
      note: `two polls of 2 × ${dead.timeoutMs} ms, then one-request probes at growing intervals: ${dead.timeoutsFirstMinute} timeouts took ${f3(dead.budgetFirstMinute)} of the bus`,
    },
    {
      metric: 'busEfficiency on a pty (local serial line)',
      value: f3(pty.stats.efficiency ?? 0),
      note: `the gateway keeps t3.5 = 3.65 ms after each reply itself; ${late(pty.stats)}`,
    },
    {
      metric: 'poll start lag at a 1 s period (p50 / p95)',
      value: `${f2(timing.lagP50)} / ${f2(timing.lagP95)} ms`,
      note: `period jitter p95 ${f2(timing.jitterP95)} ms; worst of three analyzers sharing the bus`,
    },
  ];
  writeResults('acquisition', 'npm run bench:acquisition', results, rows);
  for (const r of rows)
    console.log(`${r.metric}: ${r.value}${r.target ? ` (target ${r.target})` : ''}  ${r.note ?? ''}`);
}

await main();
