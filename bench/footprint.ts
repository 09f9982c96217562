/**
 * `npm run bench:footprint`: what the gateway daemon costs in memory, and where it goes. Builds
 * the gateway (`npm run build`) and runs the bundled daemon the way README.md does
 * (`node dist/lantian/main.js run`, the README's heap cap) against simulated Modbus TCP
 * devices (the simulator in its own process) and an embedded MQTT broker in this process.
 *
 * - idle: a small site (3 analysers, 30 points at 1 s, MQTT on): resident memory once steady and
 *   V8's heap figures; then the same site run from tsc's files unbundled (dist/gateway/src), for
 *   what the bundle saves and for a heap snapshot charged to the modules that hold it (heap.ts;
 *   in the bundle every module is one), and the list of modules loaded;
 * - per point: the same daemon polling 0, 1 000 and 5 000 points at 1 s (10-point analysers,
 *   25 per bus), the slope in MB per 1 000 points;
 * - V8 flags: the idle site without a heap cap, with the README's, with V8's lite mode added (the
 *   README's flags for a small site), with a smaller young generation and with the larger one of
 *   faster gateways, for the resident memory and CPU each costs.
 *
 * The idle and per-point figures are taken with the site cap alone, so that one configuration
 * spans the slope from 0 to 5 000 points; bench:scale's idle figure is a small site's, lite mode on.
 *
 * Figures are medians of one sample a second over a window after a warm-up, from
 * /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (CPU time).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { systemClock } from '../gateway/src/core/clock.js';
import { startAedes } from '../test/helpers/broker.js';
import { tempDir } from '../test/helpers/store-fixtures.js';
import { FIXTURE_PROFILES, type SimDevice } from '../test/fixtures/acquisition/sim.js';
import { analyseHeap, moduleOf, type HeapBreakdown } from './footprint/heap.js';
import { CpuMeter, rssMb } from './procfs.js';
import { HEAP_CAP, LITE_FLAGS } from './scale/gateway.js';
import { writeResults, type BenchRow } from './report.js';
import { SimProcess } from './sim-process.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
/** The gateway as shipped: the bundle `npm run build` writes (gateway/build.ts). */
const BUNDLE = join(root, 'dist', 'lantian', 'main.js');
/** tsc's files, one module each: the heap snapshot's attribution by module needs them. */
const FILES = join(root, 'dist', 'gateway', 'src', 'cli', 'main.js');
/**
 * Loaded with `node --import` into the measured daemon: idle until SIGUSR2, then it writes the
 * memory figures, resident memory by mapping (the node binary's pages, anonymous memory, malloc's
 * heap, shared libraries, native addons; from /proc/self/smaps) and the CommonJS modules loaded
 * to LANTIAN_FOOTPRINT_OUT and, with LANTIAN_FOOTPRINT_SNAPSHOT set, a heap snapshot to that
 * file. Figures first (the snapshot itself takes memory), the out file last (its presence means
 * done). Plain JavaScript importing only Node's own modules, so it adds nothing measurable.
 */
const PROBE_SOURCE = `
import { createRequire } from 'node:module';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
const require = createRequire(import.meta.url);
const exe = realpathSync(process.execPath);
// Resident kB by what is mapped (/proc/self/smaps): the node binary's pages, anonymous memory
// (V8's heap among it), malloc's main heap, shared libraries, native addons.
function residentByMapping() {
  const kb = {};
  let kind = 'anonymous';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \\S+ \\S+ \\S+ \\S+\\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1];
      kind = path === '' || path.startsWith('[anon') ? 'anonymous'
        : path === exe ? 'node binary'
        : path === '[heap]' ? 'malloc heap'
        : path === '[stack]' ? 'main stack'
        : path.startsWith('[') ? 'kernel'
        : path.endsWith('.node') ? 'native addons'
        : /[.]so([.]|$)/.test(path) ? 'shared libraries'
        : 'other files';
      continue;
    }
    const rss = /^Rss:\\s+(\\d+) kB/.exec(line);
    if (rss) kb[kind] = (kb[kind] ?? 0) + Number(rss[1]);
  }
  return kb;
}
process.on('SIGUSR2', () => {
  const memory = process.memoryUsage();
  const mappings = residentByMapping();
  const cjs = Object.keys(require.cache);
  const snapshot = process.env.LANTIAN_FOOTPRINT_SNAPSHOT;
  if (snapshot) writeHeapSnapshot(snapshot);
  writeFileSync(process.env.LANTIAN_FOOTPRINT_OUT, JSON.stringify({ memory, mappings, cjs }));
});
`;
const MB = 1024 * 1024;
/** The README's heap cap for the daemon of a site gateway (without a small site's lite mode). */
const README_FLAGS = HEAP_CAP.split(' ');
const FLAG_VARIANTS: { name: string; flags: string[] }[] = [
  { name: 'no heap cap', flags: [] },
  { name: 'README cap', flags: README_FLAGS },
  {
    name: "README cap and V8's lite mode (a small site, up to 1 000 readings/s)",
    flags: [...README_FLAGS, ...LITE_FLAGS.split(' ')],
  },
  {
    name: "README cap, V8's four helper threads",
    flags: ['--max-old-space-size=64', '--max-semi-space-size=2'],
  },
  {
    name: 'README cap, semi-space 1 MB',
    flags: ['--max-old-space-size=64', '--max-semi-space-size=1', '--v8-pool-size=1'],
  },
  {
    name: 'README cap, semi-space 8 MB (above 5 000 readings/s)',
    flags: ['--max-old-space-size=64', '--max-semi-space-size=8'],
  },
];
const POINTS_PER_DEVICE = 10; // bench.cems-10f
const DEVICES_PER_BUS = 25;
const IDLE_DEVICES = 3;
const POINT_STEPS = [0, 1000, 3000, 5000];
const WARMUP_S = Number(process.env.LANTIAN_FOOTPRINT_WARMUP_S ?? 30);
const WINDOW_S = Number(process.env.LANTIAN_FOOTPRINT_WINDOW_S ?? 20);

interface Run {
  points: number;
  flags: string;
  rssMb: number;
  rssMaxMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  cpuPercent: number;
  readingsPerSec: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;

function siteYaml(devices: number, busPorts: number[], brokerUrl: string, logPath: string): string {
  const lines = [
    'version: 1',
    'site: { id: footprint, name: Footprint bench }',
    'gateway: { id: footprint-gw }',
  ];
  lines.push(busPorts.length === 0 ? 'buses: {}' : 'buses:');
  busPorts.forEach((port, b) => lines.push(`  line${b}: { kind: tcp, host: 127.0.0.1, port: ${port} }`));
  lines.push(devices === 0 ? 'devices: {}' : 'devices:');
  for (let d = 0; d < devices; d++) {
    const bus = Math.floor(d / DEVICES_PER_BUS);
    const unit = (d % DEVICES_PER_BUS) + 1;
    lines.push(`  d${d}: { profile: bench.cems-10f, bus: line${bus}, unitId: ${unit}, periodMs: 1000 }`);
  }
  lines.push(`uplinks: { mqtt: { url: '${brokerUrl}' } }`, `storage: { path: '${logPath}' }`);
  return `${lines.join('\n')}\n`;
}

/**
 * One daemon over `devices` simulated analysers, run from `main` (default: the bundle); with
 * `snapshot`, a heap snapshot at the end.
 */
async function measure(
  devices: number,
  flags: string[],
  brokerUrl: string,
  { snapshot, main = BUNDLE }: { snapshot?: string; main?: string } = {},
): Promise<{ run: Run; cjs: string[]; mappingsMb: Record<string, number> }> {
  const tmp = tempDir('lantian-footprint-');
  const buses = Math.ceil(devices / DEVICES_PER_BUS);
  const simDevices: SimDevice[] = [];
  for (let d = 0; d < devices; d++)
    simDevices.push({
      id: `d${d}`,
      profile: 'bench.cems-10f',
      unit: (d % DEVICES_PER_BUS) + 1,
      bus: `line${Math.floor(d / DEVICES_PER_BUS)}`,
      turnaroundMs: 2,
      coldStart: false,
    });
  const sim =
    devices === 0
      ? undefined
      : await SimProcess.start(
          Array.from({ length: buses }, (_, b) => ({ name: `line${b}`, kind: 'tcp' as const })),
          simDevices,
        );
  const ports = Array.from({ length: buses }, (_, b) => sim!.buses.find((x) => x.name === `line${b}`)!.port!);
  const config = tmp.file('site.yaml');
  const logPath = tmp.file('log.db');
  writeFileSync(config, siteYaml(devices, ports, brokerUrl, logPath));
  const out = tmp.file('probe.json');
  const probe = tmp.file('probe.mjs');
  writeFileSync(probe, PROBE_SOURCE);
  const child = spawn(
    process.execPath,
    [
      ...flags,
      '--import',
      probe,
      main,
      'run',
      '--config',
      config,
      '--profiles',
      FIXTURE_PROFILES,
      '--log-level',
      'warn',
    ],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        LANTIAN_FOOTPRINT_OUT: out,
        ...(snapshot ? { LANTIAN_FOOTPRINT_SNAPSHOT: snapshot } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const pid = child.pid!;
  await systemClock.sleep(WARMUP_S * 1000);
  const samples: number[] = [];
  const cpu = new CpuMeter([pid]);
  const counted = await countReadings(brokerUrl);
  const seq0 = counted.readings;
  const t0 = systemClock.monotonic();
  for (let i = 0; i < WINDOW_S; i++) {
    await systemClock.sleep(1000);
    const rss = rssMb(pid);
    if (rss === undefined) throw new Error(`the daemon (${devices} devices) exited during the measurement`);
    samples.push(rss * MB);
  }
  const cpuPercent = Math.round(cpu.percent() * 10) / 10;
  const seconds = (systemClock.monotonic() - t0) / 1000;
  const readingsPerSec = Math.round((counted.readings - seq0) / seconds);
  await counted.client.endAsync();
  child.kill('SIGUSR2');
  const deadline = systemClock.monotonic() + 120_000;
  while (!existsSync(out) && systemClock.monotonic() < deadline) await systemClock.sleep(200);
  const probed = JSON.parse(readFileSync(out, 'utf8')) as {
    memory: NodeJS.MemoryUsage;
    mappings: Record<string, number>;
    cjs: string[];
  };
  child.kill('SIGTERM');
  await exited;
  await sim?.stop();
  tmp.remove();
  const m = probed.memory;
  return {
    run: {
      points: devices * POINTS_PER_DEVICE,
      flags: flags.join(' ') || '(none)',
      rssMb: mb(median(samples)),
      rssMaxMb: mb(Math.max(...samples)),
      heapUsedMb: mb(m.heapUsed),
      heapTotalMb: mb(m.heapTotal),
      externalMb: mb(m.external),
      arrayBuffersMb: mb(m.arrayBuffers),
      cpuPercent,
      readingsPerSec,
    },
    cjs: probed.cjs,
    mappingsMb: Object.fromEntries(
      Object.entries(probed.mappings)
        .map(([kind, kb]) => [kind, mb(kb * 1024)] as const)
        .sort((a, b) => b[1] - a[1]),
    ),
  };
}

/** Readings the daemon publishes on `data` (the log holds its file exclusively). */
async function countReadings(url: string): Promise<{ client: mqtt.MqttClient; readings: number }> {
  const client = await mqtt.connectAsync(url, { clientId: `footprint-count-${process.pid}` });
  const counted = { client, readings: 0 };
  client.on('message', (_topic, payload) => {
    counted.readings += (JSON.parse(payload.toString()) as { readings: unknown[] }).readings.length;
  });
  await client.subscribeAsync('lantian/v1/footprint-gw/data');
  return counted;
}

function topHolders(byHolder: Record<string, number>): { holder: string; mb: number }[] {
  return Object.entries(byHolder)
    .map(([holder, bytes]) => ({ holder, mb: mb(bytes) }))
    .sort((a, b) => b.mb - a.mb)
    .slice(0, 15);
}

/** Least-squares slope of RSS against points, in MB per 1 000 points. */
function slopePer1000(runs: Run[]): number {
  return slopeOf(runs, (r) => r.rssMb);
}

/** Least-squares slope of a figure (MB) against points, in MB per 1 000 points. */
function slopeOf(runs: Run[], y: (r: Run) => number): number {
  const n = runs.length;
  const mx = runs.reduce((a, r) => a + r.points, 0) / n;
  const my = runs.reduce((a, r) => a + y(r), 0) / n;
  const sxy = runs.reduce((a, r) => a + (r.points - mx) * (y(r) - my), 0);
  const sxx = runs.reduce((a, r) => a + (r.points - mx) ** 2, 0);
  return Math.round((sxy / sxx) * 1000 * 10) / 10;
}

function printTable(title: string, rows: Record<string, string | number>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) {
    const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  const broker = await startAedes();
  const snapshotDir = tempDir('lantian-footprint-snapshot-');
  try {
    const snapshot = snapshotDir.file('idle.heapsnapshot');
    const idle = await measure(IDLE_DEVICES, README_FLAGS, broker.url);
    const unbundled = await measure(IDLE_DEVICES, README_FLAGS, broker.url, { snapshot, main: FILES });
    const heap: HeapBreakdown = analyseHeap(snapshot, root);
    const modules = heap.scriptNames.filter((n) => !n.startsWith('node:') && n !== '');
    const packages = [...new Set(modules.map((n) => moduleOf(n, root)))].sort();
    printTable(`idle, the bundle: ${IDLE_DEVICES * POINTS_PER_DEVICE} points at 1 s, ${idle.run.flags}`, [
      { ...idle.run },
    ]);
    printTable('idle, the bundle: resident memory by mapping, MB (/proc/<pid>/smaps, after the window)', [
      idle.mappingsMb,
    ]);
    printTable(`idle, tsc's files unbundled (dist/gateway/src): ${unbundled.run.flags}`, [
      { ...unbundled.run },
    ]);
    printTable("idle, tsc's files unbundled: resident memory by mapping, MB", [unbundled.mappingsMb]);
    if (process.argv.includes('--idle-only')) {
      // A quick look while changing code: the idle figures and breakdown only, nothing written.
      printTable("heap by holder (tsc's files)", topHolders(heap.byHolder));
      printTable(
        "heap by module (tsc's files)",
        heap.byModule.slice(0, 25).map((m) => ({ ...m })),
      );
      return;
    }
    printTable(
      `heap by module, tsc's files unbundled (snapshot ${mb(heap.totalBytes)} MB; "alone": retained by it only, "reached": shared objects charged to the first module that reaches them)`,
      heap.byModule.slice(0, 25).map((m) => ({
        module: m.module,
        scripts: m.scripts,
        aloneMb: mb(m.bytes),
        reachedMb: mb(m.reachedBytes),
      })),
    );

    const steps: Run[] = [];
    const stepHeaps: HeapBreakdown[] = [];
    for (const points of POINT_STEPS) {
      const file = snapshotDir.file(`points-${points}.heapsnapshot`);
      steps.push(
        (await measure(points / POINTS_PER_DEVICE, README_FLAGS, broker.url, { snapshot: file })).run,
      );
      stepHeaps.push(analyseHeap(file, root));
    }
    // The slope over the polling runs: from 0 to any load V8 grows its young generation once
    // (up to the semi-space cap), a fixed cost that is not per point; it shows in `fromZero`.
    const polling = steps.filter((r) => r.points > 0);
    const perThousand = slopePer1000(polling);
    const fromZero = slopePer1000(steps);
    printTable(
      `RSS per point (slope ${perThousand} MB per 1 000 points polled, ${fromZero} counting the 0-point run)`,
      steps.map((r) => ({ ...r })),
    );
    // What the heap gains from the fewest to the most points polled, by the class that holds it.
    const first = steps.findIndex((r) => r.points > 0);
    const fewest = stepHeaps[first]!.byHolder;
    const most = stepHeaps[stepHeaps.length - 1]!.byHolder;
    const extraPoints = steps[steps.length - 1]!.points - steps[first]!.points;
    const holders = Object.keys(most)
      .map((holder) => ({
        holder,
        kbPer1000Points: Math.round(
          (((most[holder] ?? 0) - (fewest[holder] ?? 0)) / 1024 / extraPoints) * 1000,
        ),
      }))
      .sort((a, b) => b.kbPer1000Points - a.kbPer1000Points)
      .slice(0, 15);
    printTable(
      `heap growth by holder, ${steps[first]!.points} → ${steps[steps.length - 1]!.points} points`,
      holders,
    );

    const flagRuns: Run[] = [];
    for (const v of FLAG_VARIANTS) flagRuns.push((await measure(IDLE_DEVICES, v.flags, broker.url)).run);
    printTable(
      'V8 flags, idle site',
      flagRuns.map((r) => ({ ...r })),
    );

    const lite = flagRuns[FLAG_VARIANTS.findIndex((v) => v.flags.includes('--lite-mode'))];
    const rows: BenchRow[] = [
      {
        metric: 'idle RSS (30 points at 1 s, MQTT on), the site cap alone',
        value: `${idle.run.rssMb} MB`,
        target: '≤ 60 MB',
        note: `heap used ${idle.run.heapUsedMb} MB of ${idle.run.heapTotalMb} MB, external ${idle.run.externalMb} MB; with a small site's flags (V8's lite mode, README.md) ${lite?.rssMb ?? '-'} MB (the flag rows below); the target is bench:scale's idle figure, taken with those`,
      },
      {
        metric: "idle RSS, tsc's files unbundled (dist/gateway/src)",
        value: `${unbundled.run.rssMb} MB`,
        note: `the bundle saves ${mb((unbundled.run.rssMb - idle.run.rssMb) * MB)} MB; heap used ${unbundled.run.heapUsedMb} MB of ${unbundled.run.heapTotalMb} MB; by mapping: ${Object.entries(
          unbundled.mappingsMb,
        )
          .map(([kind, v]) => `${kind} ${v} MB`)
          .join(', ')}`,
      },
      {
        metric: 'idle RSS by mapping',
        value: Object.entries(idle.mappingsMb)
          .map(([kind, v]) => `${kind} ${v} MB`)
          .join(', '),
        note: "resident pages from /proc/<pid>/smaps when the window ends; anonymous holds V8's heap, thread stacks and malloc arenas other than the main one",
      },
      {
        metric: 'RSS per 1 000 points polled at 1 s',
        value: `${perThousand} MB`,
        target: '≤ 10 MB',
        note: `${steps.map((r) => `${r.points}: ${r.rssMb} MB`).join(', ')}; ${fromZero} MB counting the 0-point run`,
      },
      {
        metric: "modules loaded at idle (tsc's files)",
        value: `${modules.length} files in ${packages.length} packages or folders`,
        note: `heap reached: ${[...heap.byModule]
          .sort((a, b) => b.reachedBytes - a.reachedBytes)
          .slice(0, 5)
          .map((m) => `${m.module} ${mb(m.reachedBytes)} MB`)
          .join(', ')}`,
      },
      ...flagRuns.map((r) => ({
        metric: `idle RSS, ${r.flags}`,
        value: `${r.rssMb} MB`,
        note: `CPU ${r.cpuPercent} %, heap used ${r.heapUsedMb} MB`,
      })),
    ];
    writeResults(
      'footprint',
      'npm run bench:footprint',
      {
        idleRssMb: idle.run.rssMb,
        rssMbPer1000Points: perThousand,
        rssMbPer1000PointsFromZero: fromZero,
        heapUsedMbPer1000Points: slopeOf(polling, (r) => r.heapUsedMb),
        idle: idle.run,
        idleResidentByMappingMb: idle.mappingsMb,
        idleUnbundled: { ...unbundled.run, residentByMappingMb: unbundled.mappingsMb },
        heap: {
          totalMb: mb(heap.totalBytes),
          byModule: heap.byModule.map((m) => ({
            module: m.module,
            scripts: m.scripts,
            aloneMb: mb(m.bytes),
            reachedMb: mb(m.reachedBytes),
          })),
          unattributedByKindMb: Object.fromEntries(
            Object.entries(heap.unattributedByKind).map(([k, v]) => [k, mb(v)]),
          ),
          byKindMb: Object.fromEntries(Object.entries(heap.byKind).map(([k, v]) => [k, mb(v)])),
          byHolder: topHolders(heap.byHolder),
        },
        modulesLoaded: {
          files: modules.length,
          packages,
          commonJs: idle.cjs.length,
        },
        perPoint: steps,
        perPointHeapByHolder: holders,
        flags: flagRuns,
        settings: {
          warmupSeconds: WARMUP_S,
          windowSeconds: WINDOW_S,
          pointsPerDevice: POINTS_PER_DEVICE,
          devicesPerBus: DEVICES_PER_BUS,
          periodMs: 1000,
          broker: 'aedes (embedded, in the bench process)',
        },
      },
      rows,
    );
  } finally {
    snapshotDir.remove();
    await broker.close();
  }
}

await main();
