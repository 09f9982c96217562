/**
 * The platform's receiver past one machine: one consumer of several behind an MQTT shared
 * subscription (`$share/<group>/<topicRoot>/+/#`). The broker hands each message to one consumer
 * of the group, so one gateway's messages are spread over all of them. Each consumer checks what
 * it got (seal, key, signature) on its own core, then records it in the store the consumers
 * share (receiver-store.ts), where chains and seq continuity are judged across consumers.
 *
 * Verified records are handed on through the store's `records` table (and `onRecord` in the
 * consumer that committed them); findings through its `findings` table (and `onFinding`).
 * See docs/scale-out.md for the topology and the trade-offs of this design.
 */
import type { KeyObject } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { LantianError } from '../../core/errors.js';
import { fingerprint, loadPublicKey } from '../integrity/keys.js';
import { checkSignature, messageHash } from '../integrity/seal.js';
import { examine } from '../integrity/verify.js';
import { ReceiverStore, type SharedFinding, type StoredRecord } from './receiver-store.js';

export interface SharedReceiverOptions {
  url: string;
  /** Shared-subscription group: consumers with the same group share the stream. */
  group: string;
  /** Public key per gateway id (see `loadKeyDirectory`). */
  keys: ReadonlyMap<string, KeyObject>;
  /** The SQLite file every consumer of the group opens. */
  store: string;
  /** This consumer's MQTT client id; also its name in the store. Default a random one. */
  clientId?: string;
  /** Topic root above the gateway ids; default `lantian/v1`. */
  topicRoot?: string;
  /** How long a missing predecessor or seq may still be on its way through another consumer (ms); default 10 000. */
  settleMs?: number;
  /** How often this consumer runs a judge pass (ms); default 1 000. */
  judgeEveryMs?: number;
  /** Persistent session (default false here: see docs/scale-out.md, "Sessions"). */
  clean?: boolean;
  /** Extra mqtt.js options (TLS files, credentials). */
  client?: IClientOptions;
  /** Called after commit for every record this consumer handed on first. */
  onRecord?: (records: readonly StoredRecord[]) => void;
  /** Called for every finding this consumer recorded (each finding is recorded by one consumer only). */
  onFinding?: (f: SharedFinding) => void;
}

export interface ConsumerCounters {
  /** Messages this consumer received. */
  messages: number;
  /** Record messages it stored (first delivery). */
  stored: number;
  /** Deliveries of a message already stored (by any consumer). */
  duplicates: number;
  /** Records it handed on first. */
  records: number;
  /** State, command and unknown topics. */
  ignored: number;
}

export interface SharedReceiver {
  readonly consumer: string;
  readonly store: ReceiverStore;
  counters(): ConsumerCounters;
  /** Runs a judge pass now; `final` judges everything (nothing more is coming). */
  judge(final?: boolean): SharedFinding[];
  close(): Promise<void>;
}

/** Every `<gatewayId>.pub` in `dir` (SPKI PEM, as `lantian keys init` writes it). */
export function loadKeyDirectory(dir: string): Map<string, KeyObject> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.pub'));
  } catch (cause) {
    throw new LantianError('INTEGRITY_KEY_INVALID', `cannot read the key directory ${dir}`, {
      cause,
      context: { file: dir },
    });
  }
  if (files.length === 0)
    throw new LantianError('INTEGRITY_KEY_INVALID', `no <gatewayId>.pub files in ${dir}`, {
      context: { file: dir, hint: 'copy each gateway’s gateway.pub there as <gatewayId>.pub' },
    });
  return new Map(files.map((f) => [basename(f, '.pub'), loadPublicKey(join(dir, f))]));
}

const RECORD_TOPIC = /^(data|agg|events|blob\/[^/]+)$/;

export async function startSharedReceiver(options: SharedReceiverOptions): Promise<SharedReceiver> {
  const consumer = options.clientId ?? `lantian-rx-${Math.random().toString(36).slice(2, 10)}`;
  const root = (options.topicRoot ?? 'lantian/v1').replace(/\/$/, '');
  const fingerprints = new Map([...options.keys].map(([g, k]) => [g, fingerprint(k)]));
  const store = new ReceiverStore(options.store, { consumer, settleMs: options.settleMs ?? 10_000 });
  const c: ConsumerCounters = { messages: 0, stored: 0, duplicates: 0, records: 0, ignored: 0 };
  const found = (list: readonly SharedFinding[]) => {
    for (const f of list) options.onFinding?.(f);
  };

  const onHealth = (gateway: string, body: unknown) => {
    const h = body as { logId?: unknown; uplink?: { ackedThrough?: unknown } } | null;
    const acked = h?.uplink?.ackedThrough;
    if (typeof h?.logId === 'string' && typeof acked === 'number') store.health(gateway, h.logId, acked);
  };

  const onRecordMessage = (topic: string, topicGateway: string, body: unknown) => {
    const x = examine(topic, body, (g) => fingerprints.get(g));
    if ('ignored' in x) return void c.ignored++;
    if ('finding' in x || x.gateway !== topicGateway) {
      const f =
        'finding' in x
          ? x.finding
          : {
              ...x,
              seqs: x.range,
              kind: 'malformed' as const,
              detail: `sealed by ${x.gateway}, published under ${topicGateway}`,
            };
      const [first, last] = f.seqs ?? [0, 0];
      return found(
        store.report({
          kind: f.kind === 'duplicate' || f.kind === 'reorder' ? 'malformed' : f.kind,
          gateway: f.gateway ?? topicGateway,
          log: f.log ?? '',
          chain: f.chain ?? '',
          first,
          last,
          detail: f.detail,
        }),
      );
    }
    const p = body as Record<string, unknown>;
    let hash: string;
    try {
      hash = messageHash(p);
    } catch {
      return found(
        store.report({
          kind: 'malformed',
          gateway: x.gateway,
          log: x.log,
          chain: x.chain,
          first: x.range[0],
          last: x.range[1],
          detail: 'the message has values JSON cannot carry exactly',
        }),
      );
    }
    const good = checkSignature(p, options.keys.get(x.gateway)!);
    const gap =
      x.chain === 'events' && p['kind'] === 'gap' ? (p['payload'] as { from?: unknown; to?: unknown }) : null;
    const announced =
      gap && typeof gap.from === 'number' && typeof gap.to === 'number' && gap.from <= gap.to
        ? ([gap.from, gap.to] as [number, number])
        : undefined;
    const r = store.ingest({
      gateway: x.gateway,
      log: x.log,
      chain: x.chain,
      hash,
      prev: typeof x.seal.prev === 'string' ? x.seal.prev : null,
      first: x.range[0],
      last: x.range[1],
      good,
      records: good
        ? x.items.map((item) => ({ seq: item['seq'] as number, body: JSON.stringify(item) }))
        : [],
      ...(announced ? { announced } : {}),
    });
    if (r.duplicate) c.duplicates++;
    else c.stored++;
    c.records += r.fresh.length;
    found(r.findings);
    if (r.fresh.length > 0) options.onRecord?.(r.fresh);
  };

  const onMessage = (topic: string, payload: Buffer) => {
    c.messages++;
    const rest = topic.startsWith(`${root}/`) ? topic.slice(root.length + 1) : '';
    const slash = rest.indexOf('/');
    const gateway = rest.slice(0, slash);
    const sub = rest.slice(slash + 1);
    if (slash <= 0 || (sub !== 'health' && !RECORD_TOPIC.test(sub))) return void c.ignored++;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      if (sub === 'health') return void c.ignored++;
      return found(
        store.report({
          kind: 'malformed',
          gateway,
          log: '',
          chain: sub,
          first: 0,
          last: 0,
          detail: 'payload is not JSON',
        }),
      );
    }
    if (sub === 'health') onHealth(gateway, body);
    else onRecordMessage(topic, gateway, body);
  };

  const filter = `$share/${options.group}/${root}/+/#`;
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(options.url, {
      clientId: consumer,
      clean: options.clean ?? false,
      protocolVersion: 4,
      reconnectPeriod: 500,
      ...options.client,
    });
  } catch (e) {
    store.close();
    throw e;
  }
  // The store is written before mqtt.js acknowledges (the handler is synchronous), so a message
  // is acknowledged only once it is on disk: a consumer that dies mid-message gets it again.
  client.on('message', onMessage);
  client.on('connect', (ack) => {
    if (!ack.sessionPresent) void client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
  });
  await client.subscribeAsync(filter, { qos: 1 });

  const judge = (final = false) => {
    const list = store.judge({ final });
    found(list);
    return list;
  };
  const timer = setInterval(() => judge(), options.judgeEveryMs ?? 1000);

  return {
    consumer,
    store,
    counters: () => ({ ...c }),
    judge,
    async close() {
      clearInterval(timer);
      await client.endAsync();
      store.close();
    },
  };
}
