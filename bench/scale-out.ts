/**
 * `npm run bench:scale-out`: the platform side past one machine. Many gateways (recorded sealed
 * streams, each under its own key) publish to a local Mosquitto; 1, 2 and 4 `lantian receive`
 * consumer processes share them through one MQTT shared subscription and one SQLite store.
 * Measured: messages/s the group stores (checked, signature verified, recorded) and per
 * consumer, from the store's own arrival times between the 10th and 90th percentile (so process
 * start and the tail do not count), and the consumers' CPU time per message. Each run also checks
 * that every record was stored once and nothing was reported.
 *
 * On a shared, loaded machine wall-clock rates follow the neighbours' load more than the work, so
 * the two parts of a consumer's work are also measured in this process, per CPU-second: checking a
 * message (parse, seal, hash, signature), which runs in parallel across consumers, and recording
 * it in the store, which SQLite runs one transaction at a time and so bounds the group.
 */
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { systemClock } from '../gateway/src/core/clock.js';
import { fingerprint } from '../gateway/src/uplink/integrity/keys.js';
import { checkSignature, messageHash } from '../gateway/src/uplink/integrity/seal.js';
import { examine } from '../gateway/src/uplink/integrity/verify.js';
import { ReceiverStore } from '../gateway/src/uplink/mqtt/receiver-store.js';
import { startMosquitto } from '../test/helpers/broker.js';
import { tempDir, type TempDir } from '../test/helpers/store-fixtures.js';
import { startConsumer } from '../test/integration/scale-out/consumers.js';
import {
  incoming,
  recordedGateway,
  writeKeys,
  type RecordedGateway,
} from '../test/integration/scale-out/streams.js';
import { writeResults, type BenchRow } from './report.js';

const GATEWAYS = 100;
const MESSAGES_PER_GATEWAY = 20;
const READINGS_PER_MESSAGE = 10;
const CONSUMERS = [1, 2, 4] as const;

interface Run {
  consumers: number;
  messagesPerSec: number;
  perConsumerPerSec: number;
  recordsPerSec: number;
  /** Messages each consumer stored. */
  shares: number[];
  /** The consumers' CPU time per message, since they subscribed (ms). */
  cpuMsPerMessage: number;
  publishSeconds: number;
  loadAverage1m: number;
}

/** Every gateway's messages, interleaved: each gateway's own order kept, as separate gateways send. */
function interleave(gateways: readonly RecordedGateway[]): { topic: string; payload: string }[] {
  const out: { topic: string; payload: string }[] = [];
  for (let i = 0; i < MESSAGES_PER_GATEWAY; i++) for (const g of gateways) out.push(g.messages[i]!);
  return out;
}

async function waitForStore(file: string, messages: number): Promise<void> {
  const deadline = systemClock.monotonic() + 600_000;
  while (systemClock.monotonic() < deadline) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const n = db.prepare('SELECT count(*) FROM messages').pluck().get() as number;
      if (n >= messages) return;
    } finally {
      db.close();
    }
    await systemClock.sleep(250);
  }
  throw new Error('the consumers did not store every message within 10 minutes');
}

async function runWith(
  n: number,
  tmp: TempDir,
  url: string,
  keys: string,
  stream: { topic: string; payload: string }[],
): Promise<Run> {
  const store = tmp.file(`platform-${n}.db`);
  const consumers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startConsumer({ url, group: `bench-${n}`, keys, store, id: `bench-${n}-${i + 1}`, settleMs: 2000 }),
    ),
  );
  const loadAverage1m = loadavg()[0]!;
  try {
    const sender = await mqtt.connectAsync(url, { clientId: `bench-gateways-${n}` });
    const t0 = performance.now();
    // A window of outstanding publishes, as gateways each with a few messages in flight.
    for (let i = 0; i < stream.length; i += 200)
      await Promise.all(
        stream.slice(i, i + 200).map((m) => sender.publishAsync(m.topic, m.payload, { qos: 1 })),
      );
    const publishSeconds = (performance.now() - t0) / 1000;
    await sender.endAsync();
    await waitForStore(store, stream.length);
    let cpuSeconds = 0;
    for (const c of consumers) {
      const code = await c.stop();
      if (code !== 0) throw new Error(`consumer ${c.id} exited with ${code}: ${c.stderr()}`);
      cpuSeconds += Number(/([\d.]+) s CPU/.exec(c.stderr())?.[1] ?? NaN);
    }
    const db = new Database(store, { readonly: true });
    try {
      const records = db.prepare('SELECT count(*) FROM records').pluck().get() as number;
      const findings = db.prepare('SELECT count(*) FROM findings').pluck().get() as number;
      const expected = GATEWAYS * MESSAGES_PER_GATEWAY * READINGS_PER_MESSAGE;
      if (records !== expected || findings !== 0)
        throw new Error(`${n} consumers: ${records} of ${expected} records, ${findings} findings`);
      const times = db
        .prepare('SELECT arrived_ms FROM messages ORDER BY arrived_ms')
        .pluck()
        .all() as number[];
      const [a, b] = [Math.floor(times.length * 0.1), Math.floor(times.length * 0.9)];
      const messagesPerSec = ((b - a) / Math.max(1, times[b]! - times[a]!)) * 1000;
      const shares = (
        db
          .prepare('SELECT count(*) AS n FROM messages GROUP BY consumer ORDER BY consumer')
          .pluck()
          .all() as number[]
      )
        .concat(Array(n).fill(0))
        .slice(0, n);
      return {
        consumers: n,
        messagesPerSec: Math.round(messagesPerSec),
        perConsumerPerSec: Math.round(messagesPerSec / n),
        recordsPerSec: Math.round(messagesPerSec * READINGS_PER_MESSAGE),
        shares,
        cpuMsPerMessage: Math.round((cpuSeconds / stream.length) * 1000 * 100) / 100,
        publishSeconds: Math.round(publishSeconds * 100) / 100,
        loadAverage1m: Math.round(loadAverage1m * 10) / 10,
      };
    } finally {
      db.close();
    }
  } finally {
    for (const c of consumers) await c.stop();
  }
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
};

/** What one consumer does to a message before the store, per CPU-second. */
function checkRate(gateways: readonly RecordedGateway[]): number {
  const fingerprints = new Map(gateways.map((g) => [g.id, fingerprint(g.publicKey)]));
  const keys = new Map(gateways.map((g) => [g.id, g.publicKey]));
  const c0 = process.cpuUsage();
  let n = 0;
  for (const g of gateways)
    for (const m of g.messages) {
      const body = JSON.parse(m.payload) as Record<string, unknown>;
      const x = examine(m.topic, body, (id) => fingerprints.get(id));
      if (!('items' in x) || !checkSignature(body, keys.get(x.gateway)!)) throw new Error('bad message');
      messageHash(body);
      n++;
    }
  return n / cpuSeconds(c0);
}

/** Recording alone, one writer, per CPU-second: the ceiling of a group sharing one store. */
function storeRate(tmp: TempDir, gateways: readonly RecordedGateway[]): number {
  const messages = gateways.flatMap((g) => g.messages.map((_, i) => incoming(g, i)));
  const store = new ReceiverStore(tmp.file('store-alone.db'), { consumer: 'bench', settleMs: 2000 });
  const c0 = process.cpuUsage();
  for (const m of messages) store.ingest(m);
  const rate = messages.length / cpuSeconds(c0);
  store.close();
  return rate;
}

async function main(): Promise<void> {
  const tmp = tempDir('lantian-bench-scale-out-');
  const broker = await startMosquitto();
  try {
    console.log(
      `${GATEWAYS} gateways × ${MESSAGES_PER_GATEWAY} sealed messages of ${READINGS_PER_MESSAGE} readings, each gateway its own key`,
    );
    const gateways = Array.from({ length: GATEWAYS }, (_, i) =>
      recordedGateway(`site-${String(i + 1).padStart(4, '0')}`, MESSAGES_PER_GATEWAY, READINGS_PER_MESSAGE),
    );
    const keys = tmp.file('keys');
    mkdirSync(keys);
    writeKeys(keys, gateways);
    const stream = interleave(gateways);
    const check = Math.round(checkRate(gateways));
    const record = Math.round(storeRate(tmp, gateways));
    console.log(`per CPU-second: ${check} messages checked, ${record} recorded in the store`);
    const runs: Run[] = [];
    for (const n of CONSUMERS) {
      const r = await runWith(n, tmp, broker.url, keys, stream);
      runs.push(r);
      console.log(
        `${n} consumer(s): ${r.messagesPerSec} messages/s (${r.perConsumerPerSec} per consumer), ${r.cpuMsPerMessage} ms CPU per message, shares ${r.shares.join('/')}, load ${r.loadAverage1m}`,
      );
    }
    const base = runs[0]!.messagesPerSec;
    const ratio = (r: Run) => Math.round((r.messagesPerSec / base) * 100) / 100;
    const results = {
      gateways: GATEWAYS,
      messagesPerGateway: MESSAGES_PER_GATEWAY,
      readingsPerMessage: READINGS_PER_MESSAGE,
      cores: cpus().length,
      checkedPerCpuSecond: check,
      recordedPerCpuSecond: record,
      runs: runs.map((r) => ({ ...r, speedup: ratio(r) })),
    };
    const rows: BenchRow[] = [
      {
        metric: 'checking a message (`checkedPerCpuSecond`)',
        value: `${check.toLocaleString('en')} messages per CPU-second`,
        note: `parse, seal and key, hash, Ed25519 signature; ${READINGS_PER_MESSAGE} readings/message; runs in parallel across consumers`,
      },
      {
        metric: 'recording a message in the shared store (`recordedPerCpuSecond`)',
        value: `${record.toLocaleString('en')} messages per CPU-second`,
        note: 'one write transaction per message (SQLite, WAL): serialised across consumers, the ceiling of one group',
      },
      ...runs.map((r) => ({
        metric: `${r.consumers} consumer${r.consumers === 1 ? '' : 's'}, one group and store (\`messagesPerSec\`)`,
        value: `${r.messagesPerSec.toLocaleString('en')} messages/s (${r.perConsumerPerSec.toLocaleString('en')} per consumer)`,
        note: `×${ratio(r)} of one consumer; ${r.cpuMsPerMessage} ms CPU per message; messages per consumer ${r.shares.join(' / ')}; load average ${r.loadAverage1m} on ${cpus().length} cores`,
      })),
    ];
    writeResults('scale-out', 'npm run bench:scale-out', results, rows);
    console.log('wrote bench/results/scale-out.json and docs/benchmarks.md');
  } finally {
    await broker.close();
    tmp.remove();
  }
}

await main();
