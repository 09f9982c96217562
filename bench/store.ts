/**
 * `npm run bench:store`: durable ingest into the log, backlog drain to a local Mosquitto at
 * QoS 1, and the steady state at 1 000 readings/s. Drain and steady state run in child
 * processes of their own so their memory figures are theirs alone, as compiled JavaScript
 * (the way bin/lantian.js runs a built gateway) rather than through tsx, whose loader alone
 * adds some 30 MB.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../gateway/src/core/clock.js';
import { openLog } from '../gateway/src/store/log.js';
import { MqttPublisher } from '../gateway/src/uplink/mqtt/publisher.js';
import { startMosquitto } from '../test/helpers/broker.js';
import { syntheticBatch, tempDir } from '../test/helpers/store-fixtures.js';
import { writeResults, type BenchRow } from './report.js';

const BACKLOG = 2_000_000;
const POLL = 100; // readings per append: one poll of a few devices
const DRAIN = { batch: { maxReadings: 1000 }, inFlight: 32 };
const STEADY = { perSecond: 1000, seconds: 20, warmupSeconds: 5 };
const MB = 1024 * 1024;
/** V8 heap limits for the gateway on a small board (see docs/store.md). */
const HEAP_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=8'];
const HEAP_CAP = HEAP_FLAGS.join(' ');

/** Appends `total` readings in poll-sized batches; returns readings per second of append time. */
function ingest(path: string, total: number, synchronous: 'normal' | 'full'): number {
  const log = openLog({ path, synchronous });
  let busy = 0;
  for (let i = 0; i < total; i += POLL) {
    const batch = syntheticBatch(i, POLL);
    const t = performance.now();
    log.append(batch);
    busy += performance.now() - t;
  }
  log.close();
  return Math.round((total / busy) * 1000);
}

/** Child: drains the log's whole backlog to the broker; prints its figures as JSON. */
async function drainChild(path: string, url: string): Promise<void> {
  const log = openLog({ path, integrityCheck: 'none' });
  const target = log.lastSeq;
  const publisher = new MqttPublisher(log, { url, clientId: 'bench-drain', gatewayId: 'bench', ...DRAIN });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  publisher.start();
  await new Promise<void>((resolve) => {
    publisher.on('acked', () => {
      if (publisher.status().ackedThrough >= target) resolve();
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await publisher.stop();
  log.close();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({ drainPerSec: Math.round(target / seconds), seconds, peakRss: Math.max(peak, maxRss) }),
  );
}

/** Child: 1 000 readings/s for STEADY.seconds while publishing live; prints RSS and CPU. */
async function steadyChild(path: string, url: string): Promise<void> {
  const log = openLog({ path });
  const publisher = new MqttPublisher(log, { url, clientId: 'bench-steady', gatewayId: 'bench' });
  publisher.start();
  const perPoll = 50;
  const pollMs = (perPoll / STEADY.perSecond) * 1000;
  const start = systemClock.monotonic();
  let next = start;
  let cpu0 = process.cpuUsage();
  let t0 = start;
  const rss: number[] = [];
  for (let i = 0; systemClock.monotonic() - start < STEADY.seconds * 1000; i++) {
    log.append(syntheticBatch(log.lastSeq, perPoll, Date.now()));
    if (i % 20 === 0) rss.push(process.memoryUsage().rss);
    if (t0 === start && systemClock.monotonic() - start >= STEADY.warmupSeconds * 1000) {
      // Measure after the warm-up: JIT, page cache and the first WAL checkpoint are behind us.
      cpu0 = process.cpuUsage();
      t0 = systemClock.monotonic();
      rss.length = 0;
    }
    next += pollMs;
    await systemClock.sleep(Math.max(0, next - systemClock.monotonic()));
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = systemClock.monotonic() - t0;
  const backlog = publisher.status().backlog;
  await publisher.stop();
  log.close();
  console.log(
    JSON.stringify({
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      rssAvg: rss.reduce((a, b) => a + b, 0) / rss.length,
      rssMax: Math.max(...rss),
      backlogAtEnd: backlog,
    }),
  );
}

/** Compiles the sources (bench included) to plain JavaScript under `dir`. */
function build(dir: string): string {
  const root = join(fileURLToPath(import.meta.url), '..', '..');
  const out = join(dir, 'build');
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.json'),
      '--noEmit',
      'false',
    ].concat(['--outDir', out, '--sourceMap', 'false', '--incremental', 'false']),
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('tsc failed');
  // Packages resolve from the build folder's parent, as they would from dist/.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return join(out, 'bench', 'store.js');
}

function runChild(
  script: string,
  flags: string[],
  mode: string,
  args: string[],
): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...flags, script, mode, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>);
    });
  });
}

async function main(): Promise<void> {
  const tmp = tempDir('lantian-bench-store-');
  const broker = await startMosquitto();
  try {
    console.log(`ingest: ${BACKLOG} readings in batches of ${POLL} (synchronous=NORMAL)`);
    const logPath = tmp.file('backlog.db');
    const ingestPerSec = ingest(logPath, BACKLOG, 'normal');
    console.log(`  ${ingestPerSec} readings/s`);
    const ingestFullPerSec = ingest(tmp.file('full.db'), 200_000, 'full');
    console.log(`  synchronous=FULL: ${ingestFullPerSec} readings/s (200 000 readings)`);

    console.log('compiling to JavaScript for the child processes');
    const script = build(tmp.dir);
    const copy = tmp.file('backlog-copy.db');
    copyFileSync(logPath, copy);

    console.log(
      `drain: ${BACKLOG} readings to Mosquitto, QoS 1, ${DRAIN.batch.maxReadings}/message, window ${DRAIN.inFlight}`,
    );
    const drain = await runChild(script, HEAP_FLAGS, 'drain', [logPath, broker.url]);
    const drainPeakRssMb = Math.round(drain.peakRss! / MB);
    console.log(`  ${HEAP_CAP}: ${drain.drainPerSec} readings/s, peak RSS ${drainPeakRssMb} MB`);
    const drainDefault = await runChild(script, [], 'drain', [copy, broker.url]);
    const drainDefaultRssMb = Math.round(drainDefault.peakRss! / MB);
    console.log(
      `  default V8 heap: ${drainDefault.drainPerSec} readings/s, peak RSS ${drainDefaultRssMb} MB`,
    );

    console.log(`steady state: ${STEADY.perSecond} readings/s for ${STEADY.seconds} s`);
    const steady = await runChild(script, HEAP_FLAGS, 'steady', [tmp.file('steady.db'), broker.url]);
    const steadyRssMb = Math.round(steady.rssAvg! / MB);
    const steadyCpuPercent = Math.round(steady.cpuPercent! * 10) / 10;
    console.log(`  RSS ${steadyRssMb} MB, CPU ${steadyCpuPercent} % of one core`);

    const results = {
      ingestPerSec,
      ingestFullSyncPerSec: ingestFullPerSec,
      drainPerSec: drain.drainPerSec,
      drainSeconds: drain.seconds,
      drainPeakRssMb,
      drainHeapFlags: HEAP_CAP,
      drainDefaultHeapPerSec: drainDefault.drainPerSec,
      drainDefaultHeapPeakRssMb: drainDefaultRssMb,
      steadyRssMb,
      steadyRssMaxMb: Math.round(steady.rssMax! / MB),
      steadyCpuPercent,
      steadyBacklogAtEnd: steady.backlogAtEnd,
      settings: { backlog: BACKLOG, pollSize: POLL, ...DRAIN, steady: STEADY },
    };
    const ok = (v: number, target: number, more: boolean) =>
      (more ? v >= target : v <= target) ? 'met' : 'MISSED';
    const rows: BenchRow[] = [
      {
        metric: 'durable ingest (`ingestPerSec`)',
        value: `${ingestPerSec.toLocaleString('en')} readings/s`,
        target: '≥ 100 000',
        note: `${ok(ingestPerSec, 100_000, true)}; batches of ${POLL}, synchronous=NORMAL, WAL`,
      },
      {
        metric: 'durable ingest, synchronous=FULL',
        value: `${ingestFullPerSec.toLocaleString('en')} readings/s`,
        note: 'an fsync per commit: survives power loss too',
      },
      {
        metric: 'backlog drain to Mosquitto, QoS 1 (`drainPerSec`)',
        value: `${drain.drainPerSec!.toLocaleString('en')} readings/s`,
        target: '≥ 50 000',
        note: `${ok(drain.drainPerSec!, 50_000, true)}; ${BACKLOG.toLocaleString('en')} readings, ${DRAIN.batch.maxReadings}/message, window ${DRAIN.inFlight}, payloads validated`,
      },
      {
        metric: 'peak RSS while draining (`drainPeakRssMb`)',
        value: `${drainPeakRssMb} MB`,
        target: '≤ 150',
        note: `${ok(drainPeakRssMb, 150, false)}; node ${HEAP_CAP}, compiled JavaScript`,
      },
      {
        metric: 'drain with the default V8 heap',
        value: `${drainDefault.drainPerSec!.toLocaleString('en')} readings/s, peak RSS ${drainDefaultRssMb} MB`,
        note: 'without a heap cap V8 lets short-lived batch garbage pile up in the old generation',
      },
      {
        metric: 'steady state at 1 000 readings/s: RSS',
        value: `${steadyRssMb} MB (max ${results.steadyRssMaxMb})`,
        note: `log + live MQTT publishing, ${HEAP_CAP}, ${STEADY.seconds - STEADY.warmupSeconds} s after warm-up`,
      },
      {
        metric: 'steady state at 1 000 readings/s: CPU',
        value: `${steadyCpuPercent} % of one core`,
        note: `backlog at the end: ${steady.backlogAtEnd} records`,
      },
    ];
    writeResults('store', 'npm run bench:store', results, rows);
    console.log('wrote bench/results/store.json and docs/benchmarks.md');
  } finally {
    await broker.close();
    tmp.remove();
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'drain') await drainChild(args[0]!, args[1]!);
else if (mode === 'steady') await steadyChild(args[0]!, args[1]!);
else await main();
