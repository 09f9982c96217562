/**
 * `npm run bench:node-red`: `lantian device` against node-red-contrib-modbus, both in a real
 * Node-RED runtime, reading the same simulated RS-485 line for the same window.
 *
 * The line: the simulator in its own process (bench/sim-process.ts), RTU over TCP at 9600 8N1,
 * three reference analyzers (bench.cems-10f: ten float32 points in registers 0-11 and 100-107,
 * 10 ms turnaround), every point asked for once a second: 30 points/s.
 *
 * - lantian: one `lantian-line` and one `lantian device` per analyzer (period 1 s, all points);
 *   the engine coalesces each analyzer's points into two reads and runs one transaction at a time.
 * - contrib: node-red-contrib-modbus 5.23.3, one `modbus-read` per point (30 nodes at 1 s, two
 *   registers each) on one `modbus-client` with the editor's defaults for RTU over TCP (TCP type
 *   TELNET, its own queue, parallel unit ids allowed, 1000 ms timeout, reconnect on timeout).
 * - contrib-serial: the same with parallel unit ids switched off, the one change its users make
 *   once every unit but one times out on a serial line.
 *
 * Each configuration runs alone against the line in its own Node-RED process; they take turns
 * forwards then backwards (L, C, S, S, C, L) so a change in machine load does not favour one.
 * Counted per window: points delivered with the value the simulator serves, points that failed
 * (and why), the simulator's own statistics for the line, and the Node-RED process's CPU time.
 * The machine's load average is recorded with every window. BENCH_QUICK=1: a short smoke run.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadProfileFile } from '../gateway/src/profiles/index.js';
import type { BusStatsSnapshot } from '../hardware-sim/src/index.js';
import { FIXTURE_PROFILES } from '../test/fixtures/acquisition/sim.js';
import { between, contribFlow, lantianFlow, type BenchLine } from './node-red-flows.js';
import { CONTRIB_MODBUS, prepareUserDir, startNodeRed } from './node-red-runtime.js';
import { writeResults, type BenchRow } from './report.js';
import { SimProcess } from './sim-process.js';

const QUICK = process.env.BENCH_QUICK === '1';
const WARM_MS = QUICK ? 4000 : 10_000;
const WINDOW_MS = QUICK ? 10_000 : 60_000;
const PROFILE_FILE = join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml');
const profile = loadProfileFile(PROFILE_FILE);
const UNITS = [1, 2, 3];
const PERIOD_S = 1;
const POINTS = profile.points.filter((p) => p.role === 'measurement').length;
const ASKED_PER_SEC = (UNITS.length * POINTS) / PERIOD_S;
/** The wire model's ceiling for one request per point: 35 ms a float32 read (docs/acquisition.md). */
const PER_POINT_LIMIT = (UNITS.length * POINTS) / 1.05;

const STACKS = ['lantian', 'contrib', 'contrib-serial'] as const;
type Stack = (typeof STACKS)[number];

interface Measured {
  stack: Stack;
  windowMs: number;
  /** Points delivered per second with the right value, over the window's whole seconds. */
  pointsPerSec: number;
  /** The window's whole seconds. */
  seconds: number;
  delivered: number;
  wrong: number;
  perDevice: Record<string, number>;
  failed: Record<string, number>;
  /** CPU time the Node-RED process spent in the window, ms (undefined off Linux). */
  cpuMs: number | undefined;
  /** One-minute load average at the window's start and end. */
  load: [number, number];
  line: BusStatsSnapshot;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function flowFor(stack: Stack, line: BenchLine) {
  if (stack === 'lantian') return lantianFlow(line);
  return contribFlow(line, stack === 'contrib');
}

async function measure(stack: Stack, sim: SimProcess, user: string, line: BenchLine): Promise<Measured> {
  const red = await startNodeRed(user, flowFor(stack, line));
  try {
    await sleep(WARM_MS);
    const load0 = loadavg()[0]!;
    await sim.resetStats('line');
    const c0 = await red.counts();
    const cpu0 = red.cpuMs();
    const from = Date.now();
    await sleep(WINDOW_MS);
    const c1 = await red.counts();
    const cpu1 = red.cpuMs();
    const to = Date.now();
    const windowMs = to - from;
    const stats = await sim.stats('line');
    return {
      stack,
      windowMs,
      ...between(c0, c1, from, to),
      cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
      load: [load0, loadavg()[0]!],
      line: stats,
    };
  } catch (e) {
    console.error(red.output().slice(-4000));
    throw e;
  } finally {
    await red.stop();
  }
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const reasons = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, n]) => `${n} × ${k}`)
    .join(', ') || 'none';

/** One configuration's windows taken together. */
function summary(windows: Measured[]) {
  const total = (pick: (w: Measured) => number) => windows.reduce((a, w) => a + pick(w), 0);
  const merge = (pick: (w: Measured) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const w of windows) for (const [k, n] of Object.entries(pick(w))) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  const ms = total((w) => w.windowMs);
  const delivered = total((w) => w.delivered);
  const perDevice = merge((w) => w.perDevice);
  const cpu = windows.every((w) => w.cpuMs !== undefined) ? total((w) => w.cpuMs!) / ms : undefined;
  const pointsPerSec = total((w) => w.pointsPerSec * w.seconds) / total((w) => w.seconds);
  return {
    pointsPerSec,
    /** Each window's points/s, in the order they ran. */
    perWindow: windows.map((w) => w.pointsPerSec),
    deliveredShare: pointsPerSec / ASKED_PER_SEC,
    windowMs: ms,
    delivered,
    wrong: total((w) => w.wrong),
    perDevicePerSec: Object.fromEntries(UNITS.map((u) => [`a${u}`, ((perDevice[`a${u}`] ?? 0) * 1000) / ms])),
    failed: merge((w) => w.failed),
    transactionsPerSec: total((w) => w.line.transactions) / (ms / 1000),
    /** Share of the window the simulated line was busy (wire time plus the simulator's lateness). */
    lineBusyShare: total((w) => w.line.busyMs) / total((w) => w.line.windowMs),
    /** Node-RED's CPU time over the window, as a share of one core. */
    cpuShare: cpu,
    load: [Math.min(...windows.map((w) => w.load[0])), Math.max(...windows.map((w) => w.load[1]))],
  };
}
type Summary = ReturnType<typeof summary>;

async function main(): Promise<void> {
  const sim = await SimProcess.start(
    [{ name: 'line', kind: 'rtu-tcp' }],
    UNITS.map((unit) => ({
      id: `a${unit}`,
      profile: profile.id,
      unit,
      bus: 'line',
      example: 0,
      coldStart: false,
    })),
  );
  const dir = await prepareUserDir([PROFILE_FILE]);
  const port = sim.buses.find((b) => b.name === 'line')!.port!;
  const line: BenchLine = { host: '127.0.0.1', port, baud: 9600, units: UNITS, profile, periodS: PERIOD_S };
  const windows: Measured[] = [];
  try {
    for (const stack of [...STACKS, ...[...STACKS].reverse()]) {
      const w = await measure(stack, sim, dir.user, line);
      console.log(
        `${stack}: ${f2(w.pointsPerSec)} of ${ASKED_PER_SEC} points/s, failed ${reasons(w.failed)}, load ${f1(w.load[0])}-${f1(w.load[1])}`,
      );
      windows.push(w);
    }
  } finally {
    await sim.stop();
    dir.remove();
  }
  const by = Object.fromEntries(
    STACKS.map((s) => [s, summary(windows.filter((w) => w.stack === s))]),
  ) as Record<Stack, Summary>;
  const load = [Math.min(...windows.map((w) => w.load[0])), Math.max(...windows.map((w) => w.load[1]))];
  const results = {
    quick: QUICK,
    line: 'simulator in its own process, RTU over TCP, 9600 8N1, 3 × bench.cems-10f (10 float32 points, 10 ms turnaround)',
    askedPointsPerSec: ASKED_PER_SEC,
    perPointWireLimitPointsPerSec: PER_POINT_LIMIT,
    windowMs: WINDOW_MS,
    versions: dir.versions,
    cpus: cpus().length,
    loadAverage: load,
    ...by,
    windows,
  };
  const perUnit = (s: Summary) =>
    Object.entries(s.perDevicePerSec)
      .map(([d, x]) => `${d} ${f1(x)}`)
      .join(', ');
  const note = (s: Summary) =>
    [
      `windows ${s.perWindow.map(f2).join(' and ')}`,
      `per analyzer ${perUnit(s)}`,
      `not delivered: ${reasons(s.failed)}`,
      ...(s.wrong ? [`${s.wrong} wrong values`] : []),
      `line ${f2(s.transactionsPerSec)} transactions/s, busy ${f2(s.lineBusyShare)}`,
      ...(s.cpuShare === undefined ? [] : [`Node-RED CPU ${f1(100 * s.cpuShare)} % of a core`]),
    ].join('; ');
  const value = (s: Summary) => `${f2(s.pointsPerSec)} (${f2(s.deliveredShare)})`;
  const contrib = `node-red-contrib-modbus ${dir.versions['node-red-contrib-modbus']}`;
  const rows: BenchRow[] = [
    {
      metric: 'lantian device: points/s delivered of 30 asked',
      value: value(by.lantian),
      target: '30 (all asked)',
      note: `3 lantian device nodes (1 s, all points), two coalesced reads per analyzer; ${note(by.lantian)}`,
    },
    {
      metric: `${contrib}, client defaults: points/s delivered of 30 asked`,
      value: value(by.contrib),
      note: `30 modbus-read nodes (1 s, one point each), modbus-client TCP type TELNET (RTU over TCP), parallel unit ids allowed (its default); ${note(by.contrib)}`,
    },
    {
      metric: `${contrib}, parallel unit ids off: points/s delivered of 30 asked`,
      value: value(by['contrib-serial']),
      note: `the same 30 nodes, one unit's queue at a time; ${note(by['contrib-serial'])}; one request per point cannot exceed ${f2(PER_POINT_LIMIT)} points/s on this line`,
    },
    {
      metric: 'window and machine load',
      value: `2 × ${f1(WINDOW_MS / 1000)} s each`,
      note: `each configuration alone on the same simulated line in its own Node-RED ${dir.versions['node-red']} process, in turn L, C, S, S, C, L after ${f1(WARM_MS / 1000)} s warm-up; load average ${f1(load[0]!)}-${f1(load[1]!)} on ${cpus().length} cores; ${CONTRIB_MODBUS} installed at bench time (modbus-serial ${dir.versions['modbus-serial']})`,
    },
  ];
  writeResults('node-red', 'npm run bench:node-red', results, rows);
  for (const r of rows) console.log(`${r.metric}: ${r.value}  ${r.note ?? ''}`);
}

await main();
