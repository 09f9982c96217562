import { createPublicKey, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import {
  parseCaptureLine,
  recordKind,
  recordSeqs,
  StreamVerifier,
  type VerifyReport,
} from '../../../gateway/src/uplink/integrity/verify.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { startMqttProxy, type MqttProxy } from '../../helpers/mqtt-proxy.js';
import { requireTool } from '../../helpers/tools.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { capture, type Capture } from './capture.js';
import { channelOf, payloadValidators } from '../../helpers/asyncapi.js';

const GW = 'gw-seal';
const ROOT = `lantian/v1/${GW}`;

type Json = Record<string, unknown>;

function verifyLines(lines: readonly string[], keyFile: string): VerifyReport {
  const v = new StreamVerifier(createPublicKey(readFileSync(keyFile)));
  lines.forEach((l, i) => {
    const m = parseCaptureLine(l, i + 1);
    if (m) v.push(m);
  });
  return v.finish();
}

/** Record lines only (state and health are not records), with their parsed payloads. */
function records(lines: readonly string[]): { line: string; topic: string; body: Json }[] {
  return lines.flatMap((line) => {
    const m = parseCaptureLine(line, 0)!;
    const body = m.payload as Json;
    return recordKind(m.topic, body) === null ? [] : [{ line, topic: m.topic!, body }];
  });
}

/** Highest seq any captured record message carries. */
function maxSeq(lines: readonly string[]): number {
  return Math.max(0, ...records(lines).flatMap((r) => recordSeqs(r.body) ?? []));
}

/** Appends readings, an event, aggregates and a blob: every chain the publisher keeps. */
function fill(log: Log, readings: number): void {
  log.append(syntheticBatch(log.lastSeq, readings));
  log.appendEvent({ ts: Date.UTC(2026, 0, 1), kind: 'alarm', payload: { point: 'so2', level: 'high' } });
  log.appendAggregates([syntheticAggregate(1), syntheticAggregate(2, 'nox')]);
  log.appendBlob({
    ts: Date.UTC(2026, 0, 1),
    kind: 'snapshot',
    contentType: 'image/jpeg',
    bytes: Buffer.from([1, 2, 3]),
  });
  log.append(syntheticBatch(log.lastSeq, readings));
}

const tools = requireTool('mosquitto');
const missing = !tools.available;

describe(tools.title('sealed record messages through Mosquitto'), () => {
  let broker: MosquittoBroker;
  let tmp: TempDir;
  let key: { privateKey: string; publicKey: string; fingerprint: string };
  const closers: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    if (missing) return;
    broker = await startMosquitto();
    tmp = tempDir('lantian-seal-');
    key = createKeyPair(tmp.file('keys'));
  });
  afterEach(async () => {
    if (missing) return;
    for (const c of closers.splice(0).reverse()) await c();
    await broker.close();
    tmp.remove();
  });

  const publisher = (log: Log, url: string, inFlight = 4) =>
    new MqttPublisher(log, {
      url,
      gatewayId: GW,
      clientId: 'gw-seal-uplink',
      signingKey: key.privateKey,
      batch: { maxReadings: 20, lingerMs: 10 },
      inFlight,
      reconnectPeriodMs: 100,
    });

  it.skipIf(missing)(
    'seals every record message of every chain, and the captured stream verifies; an altered reading and a dropped message are each reported with their seqs',
    async () => {
      const rx: Capture = await capture(broker.url, ROOT, 'platform-seal');
      closers.push(() => rx.close());
      const log = openLog({ path: tmp.file('log.db') });
      closers.push(() => log.close());
      fill(log, 45);
      const p = publisher(log, broker.url);
      closers.push(() => p.stop());
      p.start();
      await ackedThrough(p, log.lastSeq);
      fill(log, 7); // the live lane, sealed on the same chains
      await ackedThrough(p, log.lastSeq);
      await rx.waitFor((l) => maxSeq(l) >= log.lastSeq);
      expect(p.status().signingKey).toBe(key.fingerprint);

      const recs = records(rx.lines);
      expect(new Set(recs.map((r) => (r.body['seal'] as Json)['chain']))).toEqual(
        new Set(['data', 'agg', 'events', 'blob/snapshot']),
      );
      for (const r of recs)
        expect(r.body['seal'], r.line.slice(0, 80)).toMatchObject({ key: key.fingerprint });
      // Every message, records, state and health alike, as docs/asyncapi.yaml describes it.
      const validators = payloadValidators();
      for (const l of rx.lines) {
        const m = parseCaptureLine(l, 0)!;
        const validate = validators.get(channelOf(m.topic!))!;
        expect(validate(m.payload), `${m.topic}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
      const clean = verifyLines(rx.lines, key.publicKey);
      expect(clean.findings).toEqual([]);
      expect(clean.epochs).toMatchObject([
        { gateway: GW, log: log.logId, records: log.lastSeq, firstSeq: 1 },
      ]);
      await rx.waitFor((l) => l.some((x) => x.startsWith(`${ROOT}/health `)));
      const health = rx.lines.filter((x) => x.startsWith(`${ROOT}/health `)).at(-1)!;
      expect(JSON.parse(health.slice(health.indexOf(' ') + 1)).uplink.signingKey).toBe(key.fingerprint);

      // One reading altered inside a batch, one other batch dropped.
      const data = recs.filter((r) => r.topic.endsWith('/data'));
      const altered = data[1]!;
      const reading = (altered.body['readings'] as Json[])[3]!;
      const tampered = altered.line.replace(
        `"seq":${String(reading['seq'])},"ts":${String(reading['ts'])}`,
        `"seq":${String(reading['seq'])},"ts":${String(Number(reading['ts']) + 1000)}`,
      );
      expect(tampered).not.toBe(altered.line);
      const dropped = data[3]!;
      const lines = rx.lines
        .filter((l) => l !== dropped.line)
        .map((l) => (l === altered.line ? tampered : l));
      const found = verifyLines(lines, key.publicKey).findings.map((f) => [f.kind, f.seqs]);
      const range = (b: Json) => [b['first'], b['last']];
      expect(found).toEqual(
        expect.arrayContaining([
          ['bad_signature', range(altered.body)],
          ['broken_chain', [data[4]!.body['first'], data[4]!.body['last']]],
          ['gap', range(dropped.body)],
        ]),
      );
      expect(found).toHaveLength(3);
    },
    60_000,
  );

  it.skipIf(missing)(
    'resends unacknowledged sealed messages after a restart as the same bytes (lane apart) with the same signatures, and the chain goes on without a fork',
    async () => {
      const rx = await capture(broker.url, ROOT, 'platform-seal-2');
      closers.push(() => rx.close());
      const proxy: MqttProxy = await startMqttProxy(broker.port);
      closers.push(() => proxy.close());
      const path = tmp.file('log.db');
      let log = openLog({ path });
      fill(log, 30);
      // The broker gets every message, the gateway none of the PUBACKs: all stay unacknowledged.
      proxy.pubacks('drop');
      const p1 = publisher(log, proxy.url, 100);
      p1.start();
      await rx.waitFor((l) => maxSeq(l) >= log.lastSeq);
      fill(log, 3); // live messages this time, resent below on the replay lane
      await rx.waitFor((l) => maxSeq(l) >= log.lastSeq);
      const first = log.lastSeq;
      await p1.stop();
      log.close();
      const before = records(rx.lines).map((r) => r.line);
      expect(before.length).toBeGreaterThan(4);

      log = openLog({ path });
      closers.push(() => log.close());
      const p2 = publisher(log, broker.url);
      closers.push(() => p2.stop());
      p2.start();
      await ackedThrough(p2, first);
      fill(log, 5);
      await ackedThrough(p2, log.lastSeq);
      await rx.waitFor((l) => maxSeq(l) >= log.lastSeq && records(l).length >= 2 * before.length);

      const after = records(rx.lines).slice(before.length);
      const resent = after.slice(0, before.length).map((r) => r.line);
      // Sent again in the order they were sealed, each byte the same but the lane.
      expect(resent).toEqual(before.map((l) => l.replace('"lane":"live"', '"lane":"replay"')));
      const report = verifyLines(rx.lines, key.publicKey);
      expect(new Set(report.findings.map((f) => f.kind))).toEqual(new Set(['duplicate']));
      expect(report.findings).toHaveLength(before.length);
      // Without the second copies, a clean stream: nothing forked, nothing missing.
      const once = rx.lines.filter((l) => !resent.includes(l));
      expect(verifyLines(once, key.publicKey).findings).toEqual([]);
      // The private key never left the key file: the public half is what verifies.
      expect(
        createPublicKey(createPrivateKey(readFileSync(key.privateKey))).export({
          format: 'pem',
          type: 'spki',
        }),
      ).toBe(readFileSync(key.publicKey, 'utf8'));
    },
    60_000,
  );

  it.skipIf(missing)(
    'puts a change of signing key on record as a key_change event naming both keys',
    async () => {
      const log = openLog({ path: tmp.file('log.db') });
      closers.push(() => log.close());
      fill(log, 3);
      const p1 = publisher(log, broker.url);
      p1.start();
      await ackedThrough(p1, log.lastSeq);
      await p1.stop();
      const newer = createKeyPair(tmp.file('keys2'));
      const p2 = new MqttPublisher(log, { url: broker.url, gatewayId: GW, signingKey: newer.privateKey });
      closers.push(() => p2.stop());
      const before = log.lastSeq;
      p2.start();
      const events = log.read(before, 10).filter((r) => r.type === 'event');
      expect(events).toMatchObject([
        { kind: 'key_change', payload: { previous: key.fingerprint, current: newer.fingerprint } },
      ]);
      expect(p2.status().signingKey).toBe(newer.fingerprint);
    },
  );

  it.skipIf(missing)('refuses to start with a signing key that is missing or readable by others', () => {
    const log = openLog({ path: tmp.file('log.db') });
    closers.push(() => log.close());
    const make = (signingKey: string) =>
      new MqttPublisher(log, { url: broker.url, gatewayId: GW, signingKey });
    expect(() => make(tmp.file('nowhere.key'))).toThrow(
      expect.objectContaining({ code: 'INTEGRITY_KEY_INVALID' }),
    );
    expect(() => make(key.publicKey)).toThrow(expect.objectContaining({ code: 'INTEGRITY_KEY_UNSAFE' }));
  });
});
