/**
 * `npm run bench:signing`: what sealing costs. Messages signed per second (Ed25519 over the RFC
 * 8785 canonical encoding, by the gateway's own Signer) at the default 500 readings per message and
 * at small live batches, the platform's check of the same messages, and the backlog drain to a
 * local Mosquitto with signing off and on, alternated in one run so both see the same machine load.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { createKeyPair } from '../gateway/src/uplink/integrity/keys.js';
import { checkSignature, Signer } from '../gateway/src/uplink/integrity/seal.js';
import { openLog } from '../gateway/src/store/log.js';
import { MqttPublisher } from '../gateway/src/uplink/mqtt/publisher.js';
import { startMosquitto } from '../test/helpers/broker.js';
import { tempDir } from '../test/helpers/store-fixtures.js';
import { realisticBatch } from './readings.js';
import { drainBacklog } from './drain.js';
import { writeResults, type BenchRow } from './report.js';

const BACKLOG = 300_000;
const SIZES = [500, 10] as const;
const ROUNDS = 2;

/** A data message as the publisher builds it from `count` readings. */
function dataMessage(start: number, count: number): Record<string, unknown> {
  const readings = realisticBatch(start, count).map((r, i) => ({ seq: start + i + 1, ...r }));
  return { v: 1, gateway: 'bench', lane: 'replay', first: start + 1, last: start + count, count, readings };
}

/**
 * Seals messages of `size` readings for about `ms`, then checks them as a platform does. Rates are
 * per second of this process's CPU time: on a shared, loaded machine wall time says more about
 * the neighbours than about the work.
 */
function signRate(size: number, ms = 3000): { signPerSec: number; verifyPerSec: number } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = new Signer(privateKey);
  const messages = Array.from({ length: 200 }, (_, i) => dataMessage(i * size, size));
  const sealed: Record<string, unknown>[] = [];
  let n = 0;
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const c = process.cpuUsage(since);
    return (c.user + c.system) / 1e6;
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < ms) {
    sealed.push(signer.seal('log-bench', 'data', messages[n % messages.length]!));
    n++;
  }
  const signPerSec = n / cpuSeconds(c0);
  const c1 = process.cpuUsage();
  let good = 0;
  for (const m of sealed) if (checkSignature(m, publicKey)) good++;
  if (good !== sealed.length) throw new Error('a sealed message did not verify');
  return { signPerSec, verifyPerSec: sealed.length / cpuSeconds(c1) };
}

/** Child: drains the log's backlog to the broker, sealing with `key` or not; prints readings/s. */
async function drainChild(path: string, url: string, key: string): Promise<void> {
  const log = openLog({ path, integrityCheck: 'none' });
  const target = log.lastSeq;
  const publisher = new MqttPublisher(log, {
    url,
    clientId: `bench-sign-${key === '-' ? 'off' : 'on'}`,
    gatewayId: 'bench',
    ...(key === '-' ? {} : { signingKey: key }),
  });
  const cpu0 = process.cpuUsage();
  const seconds = await drainBacklog(publisher, target);
  const cpu = process.cpuUsage(cpu0);
  await publisher.stop();
  log.close();
  console.log(
    JSON.stringify({ perSec: target / seconds, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }),
  );
}

function runChild(args: string[]): Promise<{ perSec: number; seconds: number; cpuSeconds: number }> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`drain child exited with ${code}`));
      resolve(
        JSON.parse(out.trim().split('\n').at(-1)!) as { perSec: number; seconds: number; cpuSeconds: number },
      );
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  const tmp = tempDir('lantian-bench-signing-');
  const broker = await startMosquitto();
  try {
    const load = loadavg()[0]!;
    const rates = SIZES.map((size) => ({ size, ...signRate(size) }));
    for (const r of rates)
      console.log(
        `${r.size} readings/message: ${fmt(r.signPerSec)} messages/s signed, ${fmt(r.verifyPerSec)} checked`,
      );

    const source = tmp.file('backlog.db');
    const log = openLog({ path: source });
    for (let i = 0; i < BACKLOG; i += 100) log.append(realisticBatch(i, 100));
    log.close();
    const key = createKeyPair(tmp.file('keys')).privateKey;
    const runs: { on: number[]; off: number[]; onCpu: number[]; offCpu: number[] } = {
      on: [],
      off: [],
      onCpu: [],
      offCpu: [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['off', 'on'] as const) {
        const copy = tmp.file(`drain-${round}-${mode}.db`);
        copyFileSync(source, copy);
        const r = await runChild(['drain', copy, broker.url, mode === 'on' ? key : '-']);
        runs[mode].push(r.perSec);
        runs[`${mode}Cpu`].push((r.cpuSeconds / BACKLOG) * 1e6);
        console.log(`drain, signing ${mode}: ${fmt(r.perSec)} readings/s (${r.seconds.toFixed(1)} s)`);
      }
    }
    const on = median(runs.on);
    const off = median(runs.off);
    // Each round's off and on ran back to back under the same load: compare within rounds.
    const ratio = Math.round(median(runs.on.map((x, i) => x / runs.off[i]!)) * 1000) / 1000;
    const cpuOn = median(runs.onCpu);
    const cpuOff = median(runs.offCpu);
    const results = {
      signing: rates.map((r) => ({
        readingsPerMessage: r.size,
        messagesSignedPerSec: Math.round(r.signPerSec),
        readingsSignedPerSec: Math.round(r.signPerSec * r.size),
        messagesCheckedPerSec: Math.round(r.verifyPerSec),
      })),
      drainSigningOffPerSec: Math.round(off),
      drainSigningOnPerSec: Math.round(on),
      drainOnOffRatio: ratio,
      drainCpuMicrosPerReadingOff: Math.round(cpuOff * 10) / 10,
      drainCpuMicrosPerReadingOn: Math.round(cpuOn * 10) / 10,
      drainRuns: runs,
      loadAverage1m: Math.round(load * 10) / 10,
      settings: { backlog: BACKLOG, rounds: ROUNDS, publisher: 'defaults (500 readings/message, window 16)' },
    };
    const rows: BenchRow[] = [
      ...results.signing.map((s) => ({
        metric: `signing, ${s.readingsPerMessage} readings/message (\`messagesSignedPerSec\`)`,
        value: `${fmt(s.messagesSignedPerSec)} messages/s (${fmt(s.readingsSignedPerSec)} readings/s)`,
        note: `per CPU-second of one core: Ed25519 over the RFC 8785 encoding plus the chain hash (Signer.seal); the platform checks ${fmt(s.messagesCheckedPerSec)} messages/s`,
      })),
      {
        metric: 'backlog drain, signing off / on (`drainOnOffRatio`)',
        value: `${fmt(off)} / ${fmt(on)} readings/s (on/off ${ratio})`,
        note: `${BACKLOG.toLocaleString('en')} realistic readings to Mosquitto, default settings; upper medians of ${ROUNDS} rounds, off and on back to back in each (ratio within rounds); load average ${results.loadAverage1m} on ${cpus().length} cores`,
      },
      {
        metric: 'drain CPU per reading, signing off / on (`drainCpuMicrosPerReading*`)',
        value: `${results.drainCpuMicrosPerReadingOff} / ${results.drainCpuMicrosPerReadingOn} µs`,
        note: 'the publisher process’s CPU time over the drain: what signing adds regardless of the machine’s load',
      },
    ];
    writeResults('signing', 'npm run bench:signing', results, rows);
  } finally {
    await broker.close();
    tmp.remove();
  }
  console.log('wrote bench/results/signing.json and docs/benchmarks.md');
}

const [mode, path, url, key] = process.argv.slice(2);
await (mode === 'drain' ? drainChild(path!, url!, key!) : main());
