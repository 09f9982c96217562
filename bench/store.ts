/**
 * `npm run bench:store`: durable ingest into the log, backlog drain to a local Mosquitto at
 * QoS 1 (default settings, and the former bench settings in the same run for comparison),
 * sample-to-broker latency of live readings at 30 readings/s, bytes on the wire per reading,
 * and the steady state at 1 000 readings/s. Readings are realistic: register words (`raw`) on
 * every one, `quality` on the flagged ones. Drain and steady state run in child
 * processes of their own so their memory figures are theirs alone, as compiled JavaScript
 * (the way bin/lantian.js runs a built gateway) rather than through tsx, whose loader alone
 * adds some 30 MB.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../gateway/src/core/clock.js';
import mqtt from 'mqtt';
import { openLog } from '../gateway/src/store/log.js';
import type { DataBatch } from '../gateway/src/uplink/mqtt/contract.js';
import { toMessages } from '../gateway/src/uplink/mqtt/messages.js';
import { resolveOptions, topicsOf } from '../gateway/src/uplink/mqtt/options.js';
import { MqttPublisher } from '../gateway/src/uplink/mqtt/publisher.js';
import { startMosquitto } from '../test/helpers/broker.js';
import { tempDir } from '../test/helpers/store-fixtures.js';
import { realisticBatch } from './readings.js';
import { drainBacklog } from './drain.js';
import { writeResults, type BenchRow } from './report.js';

const BACKLOG = 2_000_000;
const POLL = 100; // readings per append: one poll of a few devices
/** The settings the drain was measured with before it used the defaults. */
const FORMER_DRAIN = { batch: { maxReadings: 1000 }, inFlight: 32 };
const LIVE = { perSecond: 30, pollEveryMs: 100, seconds: 30 };
const STEADY = { perSecond: 1000, seconds: 20, warmupSeconds: 5 };
const MB = 1024 * 1024;
/** V8 heap limits for a site gateway on a small board (README.md, docs/store.md). */
const HEAP_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=2', '--v8-pool-size=1'];
const HEAP_CAP = HEAP_FLAGS.join(' ');
/** The cap README.md gives a gateway polling faster than 5 000 readings/s: 8 MB semi-spaces. */
const FAST_HEAP_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=8'];

/** Appends `total` readings in poll-sized batches; returns readings per second of append time. */
function ingest(path: string, total: number, synchronous: 'normal' | 'full'): number {
  const log = openLog({ path, synchronous });
  let busy = 0;
  for (let i = 0; i < total; i += POLL) {
    const batch = realisticBatch(i, POLL);
    const t = performance.now();
    log.append(batch);
    busy += performance.now() - t;
  }
  log.close();
  return Math.round((total / busy) * 1000);
}

/** Child: drains the log's whole backlog to the broker; prints its figures as JSON. */
async function drainChild(path: string, url: string, settings: string): Promise<void> {
  const log = openLog({ path, integrityCheck: 'none' });
  const target = log.lastSeq;
  const publisher = new MqttPublisher(log, {
    url,
    clientId: 'bench-drain',
    gatewayId: 'bench',
    ...(settings === 'former' ? FORMER_DRAIN : {}),
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const seconds = await drainBacklog(publisher, target);
  clearInterval(sampler);
  await publisher.stop();
  log.close();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({ drainPerSec: Math.round(target / seconds), seconds, peakRss: Math.max(peak, maxRss) }),
  );
}

/** Child: LIVE.perSecond readings/s at default settings; prints sample-to-broker latency. */
async function liveChild(path: string, url: string): Promise<void> {
  const log = openLog({ path });
  const publisher = new MqttPublisher(log, { url, clientId: 'bench-live', gatewayId: 'bench' });
  const sub = await mqtt.connectAsync(url, { clientId: 'bench-live-platform', clean: true });
  await sub.subscribeAsync(publisher.topics.data, { qos: 1 });
  const latencies: number[] = [];
  sub.on('message', (_topic, payload) => {
    const arrived = Date.now();
    const batch = JSON.parse(payload.toString()) as DataBatch;
    for (const r of batch.readings) latencies.push(arrived - r.ts);
  });
  publisher.start();
  await new Promise<void>((resolve) => publisher.once('connected', () => resolve()));
  const perPoll = (LIVE.perSecond * LIVE.pollEveryMs) / 1000;
  const polls = (LIVE.seconds * 1000) / LIVE.pollEveryMs;
  let next = systemClock.monotonic();
  for (let i = 0; i < polls; i++) {
    // ts is the sampling time: the reading is committed the moment it is sampled.
    log.append(realisticBatch(log.lastSeq, perPoll, Date.now()));
    next += LIVE.pollEveryMs;
    await systemClock.sleep(Math.max(0, next - systemClock.monotonic()));
  }
  const total = polls * perPoll;
  const deadline = systemClock.monotonic() + 30_000;
  while (latencies.length < total && systemClock.monotonic() < deadline) await systemClock.sleep(50);
  await publisher.stop();
  await sub.endAsync();
  log.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    JSON.stringify({ received: latencies.length, total, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) }),
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
    log.append(realisticBatch(log.lastSeq, perPoll, Date.now()));
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

/** Size of an MQTT 3.1.1 PUBLISH at QoS 1: fixed header, topic, packet id, payload. */
function publishPacketBytes(topic: string, payload: string): number {
  const rest = 2 + Buffer.byteLength(topic) + 2 + Buffer.byteLength(payload);
  const lengthBytes = rest < 128 ? 1 : rest < 16_384 ? 2 : rest < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + rest;
}

/** The messages the publisher builds from the log at default settings: sizes on the wire. */
function wireFigures(path: string) {
  const log = openLog({ path, integrityCheck: 'none' });
  const o = resolveOptions({ url: 'mqtt://x', gatewayId: 'bench' });
  const t = topicsOf(o);
  const sizes: number[] = [];
  let readings = 0;
  let bytes = 0;
  const sample = Math.min(log.lastSeq, 200_000);
  for (let pos = 0; pos < sample; pos += o.batch.maxReadings) {
    const records = log.read(pos, o.batch.maxReadings);
    for (const m of toMessages(records, 'replay', o.gatewayId, t, false, o.maxMessageBytes)) {
      const size = publishPacketBytes(m.topic, m.payload);
      sizes.push(size);
      bytes += size + 4; // + the PUBACK that comes back
    }
    readings += records.length;
  }
  log.close();
  sizes.sort((a, b) => a - b);
  return {
    wireBytesPerReading: Math.round((bytes / readings) * 10) / 10,
    messageBytesMedian: sizes[Math.floor(sizes.length / 2)]!,
    messageBytesMax: sizes.at(-1)!,
    readingsPerMessage: o.batch.maxReadings,
  };
}

async function main(): Promise<void> {
  const tmp = tempDir('lantian-bench-store-');
  const broker = await startMosquitto();
  try {
    console.log(`ingest: ${BACKLOG} realistic readings in batches of ${POLL} (synchronous=NORMAL)`);
    const logPath = tmp.file('backlog.db');
    const ingestPerSec = ingest(logPath, BACKLOG, 'normal');
    console.log(`  ${ingestPerSec} readings/s`);
    const ingestFullPerSec = ingest(tmp.file('full.db'), 200_000, 'full');
    console.log(`  synchronous=FULL: ${ingestFullPerSec} readings/s (200 000 readings)`);
    const wire = wireFigures(logPath);
    console.log(
      `wire: ${wire.wireBytesPerReading} bytes per reading, messages ${wire.messageBytesMedian} bytes (median), ${wire.messageBytesMax} (max)`,
    );

    console.log('compiling to JavaScript for the child processes');
    const script = build(tmp.dir);
    const copies = [1, 2, 3].map((n) => {
      const copy = tmp.file(`backlog-${n}.db`);
      copyFileSync(logPath, copy);
      return copy;
    });

    const d = resolveOptions({ url: 'mqtt://x', gatewayId: 'bench' });
    console.log(
      `drain: ${BACKLOG} readings to Mosquitto, QoS 1, default settings (${d.batch.maxReadings}/message, window ${d.inFlight})`,
    );
    const drain = await runChild(script, HEAP_FLAGS, 'drain', [logPath, broker.url, 'default']);
    const drainPeakRssMb = Math.round(drain.peakRss! / MB);
    console.log(`  ${HEAP_CAP}: ${drain.drainPerSec} readings/s, peak RSS ${drainPeakRssMb} MB`);
    const former = await runChild(script, HEAP_FLAGS, 'drain', [copies[0]!, broker.url, 'former']);
    console.log(
      `  former bench settings (${FORMER_DRAIN.batch.maxReadings}/message, window ${FORMER_DRAIN.inFlight}): ${former.drainPerSec} readings/s`,
    );
    const drainFast = await runChild(script, FAST_HEAP_FLAGS, 'drain', [copies[2]!, broker.url, 'default']);
    const drainFastRssMb = Math.round(drainFast.peakRss! / MB);
    console.log(
      `  ${FAST_HEAP_FLAGS.join(' ')}: ${drainFast.drainPerSec} readings/s, peak RSS ${drainFastRssMb} MB`,
    );
    const drainDefault = await runChild(script, [], 'drain', [copies[1]!, broker.url, 'default']);
    const drainDefaultRssMb = Math.round(drainDefault.peakRss! / MB);
    console.log(
      `  default V8 heap: ${drainDefault.drainPerSec} readings/s, peak RSS ${drainDefaultRssMb} MB`,
    );

    console.log(`live: ${LIVE.perSecond} readings/s for ${LIVE.seconds} s at default settings`);
    const live = await runChild(script, HEAP_FLAGS, 'live', [tmp.file('live.db'), broker.url]);
    console.log(`  sample to broker: p50 ${live.p50} ms, p99 ${live.p99} ms, max ${live.max} ms`);

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
      drainFormerSettingsPerSec: former.drainPerSec,
      drainFastHeapPerSec: drainFast.drainPerSec,
      drainFastHeapPeakRssMb: drainFastRssMb,
      drainDefaultHeapPerSec: drainDefault.drainPerSec,
      drainDefaultHeapPeakRssMb: drainDefaultRssMb,
      liveLatencyP50Ms: live.p50,
      liveLatencyP99Ms: live.p99,
      liveLatencyMaxMs: live.max,
      ...wire,
      steadyRssMb,
      steadyRssMaxMb: Math.round(steady.rssMax! / MB),
      steadyCpuPercent,
      steadyBacklogAtEnd: steady.backlogAtEnd,
      settings: {
        backlog: BACKLOG,
        pollSize: POLL,
        batchSize: d.batch.maxReadings,
        maxInFlight: d.inFlight,
        lingerMs: d.batch.lingerMs,
        formerDrain: FORMER_DRAIN,
        live: LIVE,
        steady: STEADY,
      },
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
        note: `${ok(drain.drainPerSec!, 50_000, true)}; ${BACKLOG.toLocaleString('en')} realistic readings, default settings (${d.batch.maxReadings}/message, window ${d.inFlight}), payloads validated`,
      },
      {
        metric: 'drain with the former bench settings (`drainFormerSettingsPerSec`)',
        value: `${former.drainPerSec!.toLocaleString('en')} readings/s`,
        note: `${FORMER_DRAIN.batch.maxReadings}/message, window ${FORMER_DRAIN.inFlight}, same run and machine load`,
      },
      {
        metric: 'peak RSS while draining (`drainPeakRssMb`)',
        value: `${drainPeakRssMb} MB`,
        target: '≤ 150',
        note: `${ok(drainPeakRssMb, 150, false)}; node ${HEAP_CAP}, compiled JavaScript`,
      },
      {
        metric: 'drain with 8 MB semi-spaces',
        value: `${drainFast.drainPerSec!.toLocaleString('en')} readings/s, peak RSS ${drainFastRssMb} MB`,
        note: `node ${FAST_HEAP_FLAGS.join(' ')}: the cap of a gateway polling more than 5 000 readings/s (README.md)`,
      },
      {
        metric: 'drain with the default V8 heap',
        value: `${drainDefault.drainPerSec!.toLocaleString('en')} readings/s, peak RSS ${drainDefaultRssMb} MB`,
        note: 'without a heap cap V8 lets short-lived batch garbage pile up in the old generation',
      },
      {
        metric: 'live latency, sample to broker, p50 (`liveLatencyP50Ms`)',
        value: `${live.p50} ms`,
        target: '≤ 20',
        note: `${ok(live.p50!, 20, false)}; ${LIVE.perSecond} readings/s, default settings, measured at a subscriber`,
      },
      {
        metric: 'live latency, sample to broker, p99 (`liveLatencyP99Ms`)',
        value: `${live.p99} ms`,
        target: '≤ 100',
        note: `${ok(live.p99!, 100, false)}; max ${live.max} ms`,
      },
      {
        metric: 'bytes on the wire per reading (`wireBytesPerReading`)',
        value: `${wire.wireBytesPerReading} bytes`,
        note: `PUBLISH + PUBACK at ${wire.readingsPerMessage} readings/message, with raw and quality; messages ${wire.messageBytesMedian.toLocaleString('en')} bytes (median), ${wire.messageBytesMax.toLocaleString('en')} (max)`,
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
if (mode === 'drain') await drainChild(args[0]!, args[1]!, args[2]!);
else if (mode === 'live') await liveChild(args[0]!, args[1]!);
else if (mode === 'steady') await steadyChild(args[0]!, args[1]!);
else await main();
