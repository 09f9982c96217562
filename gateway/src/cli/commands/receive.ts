/**
 * `lantian receive`: one platform consumer behind an MQTT shared subscription; run several with
 * the same `--share` group and `--store` file to spread the load (docs/scale-out.md). Prints each
 * finding it records as one line; `--jsonl FILE` appends every verified record it hands on.
 * `lantian receive --judge --store FILE` judges everything the store holds (nothing more is
 * coming), prints every finding and a line per gateway log, and exits 0 only when there is none.
 */
import { appendFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { ReceiverStore, type SharedFinding } from '../../uplink/mqtt/receiver-store.js';
import { loadKeyDirectory, startSharedReceiver } from '../../uplink/mqtt/receiver-shared.js';
import { EXIT, processIo, type Io } from '../output.js';

export interface ReceiveOptions {
  url?: string;
  share?: string;
  keys?: string;
  store: string;
  clientId?: string;
  topicRoot: string;
  settleMs: string;
  jsonl?: string;
  judge?: boolean;
}

export function formatSharedFinding(f: SharedFinding): string {
  const seqs = f.first === 0 ? '' : f.first === f.last ? ` seq ${f.first}` : ` seqs ${f.first}–${f.last}`;
  const where = [f.gateway, f.chain || null, f.log ? `log ${f.log}` : null].filter((x) => x).join(', ');
  return `${f.kind}${seqs} (${where}): ${f.detail}`;
}

function judgeStore(options: ReceiveOptions, io: Io): number {
  const store = new ReceiverStore(options.store, { consumer: 'judge', settleMs: 0 });
  try {
    store.judge({ final: true });
    const findings = store.findings();
    for (const f of findings) io.out(formatSharedFinding(f));
    for (const e of store.epochs())
      io.out(
        `gateway ${e.gateway} log ${e.log}: ${e.messages} messages (${e.deliveries} deliveries), ${e.records} records, seqs ${e.low}–${e.high}`,
      );
    io.out(findings.length === 0 ? 'receive: ok' : `receive: ${findings.length} finding(s)`);
    return findings.length === 0 ? EXIT.ok : EXIT.unexpected;
  } finally {
    store.close();
  }
}

async function consume(options: ReceiveOptions, io: Io): Promise<number> {
  const settleMs = Number(options.settleMs);
  if (!options.url || !options.share || !options.keys || !Number.isInteger(settleMs) || settleMs < 0) {
    io.err('lantian receive: --url, --share and --keys are needed, and --settle-ms is whole milliseconds');
    return EXIT.invalid;
  }
  const rx = await startSharedReceiver({
    url: options.url,
    group: options.share,
    keys: loadKeyDirectory(options.keys),
    store: options.store,
    topicRoot: options.topicRoot,
    settleMs,
    ...(options.clientId ? { clientId: options.clientId } : {}),
    onFinding: (f) => io.out(formatSharedFinding(f)),
    ...(options.jsonl
      ? {
          onRecord: (records) =>
            appendFileSync(
              options.jsonl!,
              records
                .map(
                  (r) =>
                    `{"gateway":${JSON.stringify(r.gateway)},"log":${JSON.stringify(r.log)},"seq":${r.seq},"kind":${JSON.stringify(r.kind)},"record":${r.body}}\n`,
                )
                .join(''),
            ),
        }
      : {}),
  });
  io.err(`receive: consumer ${rx.consumer} in group ${options.share}, store ${options.store}`);
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const c = rx.counters();
  await rx.close();
  // CPU time since subscribing: the work the messages cost, without the process start.
  const cpu = process.cpuUsage(cpu0);
  io.err(
    `receive: ${c.messages} messages, ${c.stored} stored, ${c.duplicates} delivered again, ${c.records} records handed on, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`,
  );
  return EXIT.ok;
}

export async function receive(options: ReceiveOptions, io: Io): Promise<number> {
  try {
    return options.judge ? judgeStore(options, io) : await consume(options, io);
  } catch (e) {
    if (!isLantianError(e)) throw e;
    io.err(`lantian receive: ${e.code}: ${e.message}`);
    return EXIT.invalid;
  }
}

export function registerReceive(program: Command): void {
  program
    .command('receive')
    .description(
      'platform consumer behind an MQTT shared subscription: verifies and stores gateways’ records',
    )
    .requiredOption('--store <file>', 'the SQLite file every consumer of the group shares')
    .option('--url <url>', 'broker URL (mqtt://, mqtts://, ws://, wss://)')
    .option('--share <group>', 'shared-subscription group name')
    .option('--keys <dir>', 'directory of <gatewayId>.pub public keys')
    .option('--client-id <id>', 'this consumer’s MQTT client id (fixed: the broker keeps its session)')
    .option('--topic-root <root>', 'topic root above the gateway ids', 'lantian/v1')
    .option(
      '--settle-ms <ms>',
      'how long a missing message may still be on its way through another consumer',
      '10000',
    )
    .option('--jsonl <file>', 'append every record this consumer hands on as a JSON line')
    .option('--judge', 'judge everything in --store now, print every finding, and exit')
    .action(async (options: ReceiveOptions) => {
      process.exitCode = await receive(options, processIo);
    });
}
