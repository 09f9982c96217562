/**
 * Writes docs/asyncapi.yaml, the MQTT contract as an AsyncAPI 3 document: one channel per topic,
 * its payload schema generated from the zod schemas (JSON Schema draft-07, the base of AsyncAPI's
 * schema object), QoS and retain as MQTT operation bindings, and an example of every message.
 * The record examples are real sealed messages, built by the publisher's own code and signed
 * with the RFC 8032 test key, so a reader can check a signature by hand.
 * `tsx gateway/src/uplink/mqtt/write-asyncapi.ts` writes it; `--check` fails if it is stale.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { LogRecord } from '../../store/records.js';
import { Signer } from '../integrity/seal.js';
import { fingerprint } from '../integrity/keys.js';
import { CONTRACT_VERSION, SCHEMAS, topics, type HealthMessage, type StateMessage } from './contract.js';
import { toMessages } from './messages.js';
import { commandSchema, resultSchema } from '../commands/contract.js';

export const ASYNCAPI_FILE = fileURLToPath(new URL('../../../../docs/asyncapi.yaml', import.meta.url));

/** RFC 8032 section 7.1, TEST 1: a published key, for examples only. Never a gateway's key. */
const EXAMPLE_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
export function exampleKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  const der = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.from(EXAMPLE_SEED, 'hex'),
  ]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const GW = 'site-7';
const TS = Date.UTC(2026, 0, 1, 8, 0, 0);
const LOG_ID = '3f9a1c0e5b7d2a46';

/** A few log records of every kind, as the gateway would hold them. */
const EXAMPLE_RECORDS: LogRecord[] = [
  {
    type: 'reading',
    seq: 1201,
    ts: TS,
    device: 'stack1-gas',
    point: 'so2',
    value: 35.2,
    flag: 'N',
    raw: [0x420c, 0xcccd],
  },
  {
    type: 'reading',
    seq: 1202,
    ts: TS,
    device: 'stack1-gas',
    point: 'o2',
    value: 9.8,
    flag: 'C',
    quality: ['device_status'],
  },
  {
    type: 'reading',
    seq: 1203,
    ts: TS,
    device: 'stack1-dust',
    point: 'pm',
    value: null,
    flag: 'B',
    quality: ['timeout'],
  },
  {
    type: 'aggregate',
    seq: 1204,
    device: 'stack1-gas',
    point: 'so2',
    period: 'minute',
    start: TS - 60_000,
    min: 33.9,
    avg: 35.1,
    max: 36.4,
    count: 12,
    flag: 'N',
    outlet: 'stack1',
    hj212: 'a21026',
    unit: 'mg/m3',
    zsAvg: 38.2,
  },
  {
    type: 'event',
    seq: 1205,
    ts: TS + 1000,
    kind: 'gap',
    payload: { from: 1100, to: 1150, count: 51, reason: 'quota', kinds: ['reading'], uplinks: ['mqtt'] },
  },
  {
    type: 'blob',
    seq: 1206,
    ts: TS + 2000,
    kind: 'snapshot',
    contentType: 'image/jpeg',
    bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
    source: 'gate-cam',
    trigger: {
      reason: 'event',
      event: 1190,
      eventKind: 'exceedance',
      device: 'site-dust',
      point: 'pm10',
      readings: [1188],
    },
  },
];

/** The sealed record messages of the examples, by topic suffix (data, agg, events, blob). */
export function exampleRecordMessages(): Record<string, unknown> {
  const { privateKey } = exampleKey();
  const signer = new Signer(privateKey);
  const t = topics(`lantian/v${CONTRACT_VERSION}/${GW}`);
  const sealer = {
    reserveBytes: 0,
    seal: (chain: string, body: object) => signer.seal(LOG_ID, chain, body as Record<string, unknown>).seal,
  };
  const out: Record<string, unknown> = {};
  for (const m of toMessages(EXAMPLE_RECORDS, 'live', GW, t, true, Infinity, sealer)) {
    const name = m.topic.slice(t.state.length - 'state'.length).replace(/\/.*$/, '');
    out[name] = JSON.parse(m.payload) as unknown;
  }
  return out;
}

function exampleState(): StateMessage {
  return { v: CONTRACT_VERSION, gateway: GW, state: 'online', ts: TS };
}

function exampleHealth(): HealthMessage {
  return {
    v: CONTRACT_VERSION,
    gateway: GW,
    ts: TS + 5000,
    boot: 3,
    logId: LOG_ID,
    log: { lastSeq: 1206, bytes: 4_194_304, quotaBytes: 1_073_741_824 },
    uplink: {
      lane: 'live',
      ackedThrough: 1206,
      backlog: 0,
      oldestUndeliveredTs: null,
      oldestUndeliveredAgeMs: null,
      inFlight: 0,
      lastRefusal: null,
      signingKey: fingerprint(exampleKey().publicKey),
    },
    counters: {
      gapEvents: 1,
      droppedRecords: 51,
      publishErrors: 0,
      reconnects: 1,
      refusedLogins: 0,
      pendingReadings: 0,
      unloggedReadings: 0,
      logWriteFailures: 0,
    },
    devices: { 'stack1-gas': { readings: 1100, flagged: 12, lastTs: TS } },
  };
}

interface Topic {
  /** Key of SCHEMAS. */
  schema: keyof typeof SCHEMAS;
  retained: boolean;
  summary: string;
}

const TOPICS: Record<string, Topic> = {
  state: { schema: 'state', retained: true, summary: 'online / offline (the last will), retained.' },
  data: { schema: 'data', retained: false, summary: 'A batch of readings, sealed.' },
  agg: { schema: 'agg', retained: false, summary: 'A batch of minute, hour and day aggregates, sealed.' },
  events: {
    schema: 'events',
    retained: false,
    summary: 'One event (gap, alarm, exceedance, key_change, ...), sealed.',
  },
  blob: {
    schema: 'blob/<kind>',
    retained: false,
    summary:
      'One blob (a camera snapshot, ...), bytes in base64, sealed; a blob over maxMessageBytes comes in parts (chunk), each sealed.',
  },
  health: {
    schema: 'health',
    retained: true,
    summary: 'Backlog, counters, device and bus health, the signing key; retained.',
  },
};

const DESCRIPTION = `The MQTT contract of a Lantian gateway, version ${CONTRACT_VERSION} (docs/mqtt.md, docs/integrity.md).

Every record (reading, aggregate, event, blob) carries its gateway-wide sequence number: a platform
de-duplicates by (logId, seq) and finds holes by seq; records the gateway had to evict are
announced by a gap event. Record messages carry a seal: an Ed25519 signature over the RFC 8785
encoding of the message without lane and seal.sig, and the SHA-256 of the previous message of the
same chain (data, agg, events, blob/<kind>, per log epoch). A resent message carries the seal it
had the first time.

Compatibility: the version is in every topic (lantian/v1/...) and payload (v). Within v1 the
gateway may add optional fields and new event kinds; platforms ignore what they do not know.
Removing or renaming a field, changing its type or meaning, or making an optional field required
is a new version, published on lantian/v2/... beside v1 for a transition.

Generated from the zod schemas by gateway/src/uplink/mqtt/write-asyncapi.ts; do not edit.`;

export function asyncApiDocument(): Record<string, unknown> {
  const records = exampleRecordMessages();
  const examples: Record<string, unknown> = { ...records, state: exampleState(), health: exampleHealth() };
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const params = { gatewayId: { description: 'The gateway id from the site config (gateway.id).' } };
  for (const [name, topic] of Object.entries(TOPICS)) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(SCHEMAS[topic.schema], { target: 'draft-07' });
    schemas[name] = schema;
    messages[name] = {
      name,
      title: `${name} message`,
      summary: topic.summary,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${name}` },
      examples: [{ name: `${name}-example`, payload: examples[name] }],
    };
    const address =
      name === 'blob'
        ? `lantian/v${CONTRACT_VERSION}/{gatewayId}/blob/{kind}`
        : `lantian/v${CONTRACT_VERSION}/{gatewayId}/${name}`;
    channels[name] = {
      address,
      summary: topic.summary,
      parameters:
        name === 'blob' ? { ...params, kind: { description: 'What the blob is, e.g. snapshot.' } } : params,
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
    };
    operations[`send_${name}`] = {
      action: 'send',
      summary: `The gateway publishes on ${address}.`,
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
      bindings: { mqtt: { qos: 1, retain: topic.retained, bindingVersion: '0.2.0' } },
    };
  }
  addCommands(channels, operations, messages, schemas, params);
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Lantian gateway MQTT contract',
      version: `${CONTRACT_VERSION}.0.0`,
      description: DESCRIPTION,
    },
    defaultContentType: 'application/json',
    servers: {
      broker: {
        host: 'broker.example.cn:8883',
        protocol: 'mqtts',
        description: 'Any MQTT 3.1.1 broker; the gateway connects with a persistent session (clean: false).',
        bindings: { mqtt: { cleanSession: false, keepAlive: 30, bindingVersion: '0.2.0' } },
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}

/** cmd/<name> (the gateway receives) and cmd/<name>/result (it answers); docs/commands.md. */
function addCommands(
  channels: Record<string, unknown>,
  operations: Record<string, unknown>,
  messages: Record<string, unknown>,
  schemas: Record<string, unknown>,
  params: Record<string, unknown>,
): void {
  const name = { description: 'The command: ping, alert-level, snapshot, ... (docs/commands.md).' };
  const command = {
    v: CONTRACT_VERSION,
    id: 'op-42',
    ts: TS,
    nonce: 'b3f1c2d4e5a6f708',
    args: { level: 'orange' },
  };
  const sig = sign(null, Buffer.from(canonicalize(command)!), exampleKey().privateKey).toString('base64');
  const entries = [
    {
      key: 'command',
      schema: commandSchema,
      address: `lantian/v${CONTRACT_VERSION}/{gatewayId}/cmd/{name}`,
      action: 'receive',
      summary: 'A command from the platform, signed with its key, with a nonce and its time.',
      example: { ...command, sig },
    },
    {
      key: 'commandResult',
      schema: resultSchema,
      address: `lantian/v${CONTRACT_VERSION}/{gatewayId}/cmd/{name}/result`,
      action: 'send',
      summary: "The answer to a command, with the caller's id.",
      example: {
        v: CONTRACT_VERSION,
        gateway: GW,
        id: 'op-42',
        name: 'alert-level',
        ts: TS + 120,
        ok: true,
        result: { seq: 1207 },
      },
    },
  ];
  for (const e of entries) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(e.schema, { target: 'draft-07', io: 'input' });
    schemas[e.key] = schema;
    messages[e.key] = {
      name: e.key,
      title: `${e.key} message`,
      summary: e.summary,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${e.key}` },
      examples: [{ name: `${e.key}-example`, payload: e.example }],
    };
    channels[e.key] = {
      address: e.address,
      summary: e.summary,
      parameters: { ...params, name },
      messages: { [e.key]: { $ref: `#/components/messages/${e.key}` } },
    };
    operations[`${e.action}_${e.key}`] = {
      action: e.action,
      summary:
        e.action === 'receive'
          ? `The gateway subscribes to ${e.address}.`
          : `The gateway publishes on ${e.address}.`,
      channel: { $ref: `#/channels/${e.key}` },
      messages: [{ $ref: `#/channels/${e.key}/messages/${e.key}` }],
      bindings: { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } },
    };
  }
}

export async function renderAsyncApi(): Promise<string> {
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(ASYNCAPI_FILE)) ?? {};
  const text = `# Generated by gateway/src/uplink/mqtt/write-asyncapi.ts from the zod contract; do not edit.\n${stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
  return prettier.format(text, { ...config, parser: 'yaml' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await renderAsyncApi();
  if (process.argv.includes('--check')) {
    if (readFileSync(ASYNCAPI_FILE, 'utf8') !== text) {
      console.error(`${ASYNCAPI_FILE} is stale: run tsx gateway/src/uplink/mqtt/write-asyncapi.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(ASYNCAPI_FILE, text);
  }
}
