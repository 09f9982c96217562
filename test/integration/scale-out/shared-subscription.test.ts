import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/src/core/clock.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { lantian } from '../../helpers/cli.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { requireTool } from '../../helpers/tools.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';
import { startConsumer, type Consumer } from './consumers.js';
import { healthPayload, recordedGateway, writeKeys } from './streams.js';

const tools = requireTool('mosquitto');
const missing = !tools.available;

/** Polls the shared store (another process's file) until `ready` holds. */
async function storeUntil<T>(
  file: string,
  read: (db: Database.Database) => T,
  ready: (v: T) => boolean,
): Promise<T> {
  const deadline = systemClock.monotonic() + 90_000;
  let last: T | undefined;
  while (systemClock.monotonic() < deadline) {
    if (existsSync(file)) {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        last = read(db);
      } catch {
        last = undefined; // tables not created yet
      } finally {
        db.close();
      }
      if (last !== undefined && ready(last)) return last;
    }
    await systemClock.sleep(200);
  }
  throw new Error(`store never got there: ${JSON.stringify(last)}`);
}

/** Readings, an event and aggregates: the records of three chains. */
function fill(log: Log, readings: number): void {
  log.append(syntheticBatch(log.lastSeq, readings));
  log.appendEvent({ ts: Date.UTC(2026, 0, 1), kind: 'alarm', payload: { point: 'so2', level: 'high' } });
  log.appendAggregates([syntheticAggregate(1), syntheticAggregate(2, 'nox')]);
  log.append(syntheticBatch(log.lastSeq, readings));
}

describe(tools.title('scale-out receiver: consumers behind an MQTT shared subscription'), () => {
  let broker: MosquittoBroker;
  let tmp: TempDir;
  const closers: (() => Promise<unknown> | void)[] = [];

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it.skipIf(missing)(
    'three consumers share four gateways’ streams: every record stored and handed on exactly once, a dropped and an altered message each reported once',
    async () => {
      broker = await startMosquitto();
      closers.push(() => broker.close());
      tmp = tempDir('lantian-scale-out-');
      closers.push(() => tmp.remove());
      const keys = tmp.file('keys');
      mkdirSync(keys);
      const store = tmp.file('platform.db');

      // Three gateways with the real sealing publisher, one recorded stream with faults in it.
      const real = ['gw-a', 'gw-b', 'gw-c'].map((id) => {
        const pair = createKeyPair(tmp.file(`key-${id}`));
        copyFileSync(pair.publicKey, `${keys}/${id}.pub`);
        const log = openLog({ path: tmp.file(`${id}.db`) });
        closers.push(() => log.close());
        fill(log, 60);
        return { id, log, signingKey: pair.privateKey };
      });
      const fault = recordedGateway('gw-fault', 12, 5);
      writeKeys(keys, [fault]);
      const DROPPED = 4;
      const ALTERED = 7;
      const DOUBLED = 2;

      const consumers: Consumer[] = await Promise.all(
        [1, 2, 3].map((n) =>
          startConsumer({
            url: broker.url,
            group: 'platform',
            keys,
            store,
            id: `consumer-${n}`,
            settleMs: 1000,
            jsonl: tmp.file(`consumer-${n}.jsonl`),
          }),
        ),
      );
      for (const c of consumers) closers.push(() => c.stop());

      const publishers = real.map((g) => {
        const p = new MqttPublisher(g.log, {
          url: broker.url,
          gatewayId: g.id,
          clientId: `${g.id}-uplink`,
          signingKey: g.signingKey,
          batch: { maxReadings: 10, lingerMs: 10 },
          inFlight: 4,
          healthIntervalMs: 1000,
        });
        closers.push(() => p.stop());
        p.start();
        return p;
      });
      const sender = await mqtt.connectAsync(broker.url, { clientId: 'gw-fault-recorded' });
      closers.push(() => sender.endAsync());
      const faultMessages = fault.messages.flatMap((m, i) => {
        if (i === DROPPED) return [];
        // One reading's value changed after sealing: its signature no longer holds.
        if (i === ALTERED) return [{ ...m, payload: m.payload.replace('"value":', '"value":1') }];
        return i === DOUBLED ? [m, m] : [m];
      });
      for (const m of faultMessages) await sender.publishAsync(m.topic, m.payload, { qos: 1 });
      await sender.publishAsync(`lantian/v1/${fault.id}/health`, healthPayload(fault), { qos: 1 });
      for (const g of real) fill(g.log, 25); // the live lane too
      await Promise.all(publishers.map((p, i) => ackedThrough(p, real[i]!.log.lastSeq)));

      const expected = new Map<string, number>([
        ...real.map((g) => [g.id, g.log.lastSeq] as [string, number]),
        [fault.id, fault.lastSeq - 10],
      ]);
      // Everything stored, every message judged, and each gateway's seqs judged through its end.
      const done = await storeUntil(
        store,
        (db) => ({
          records: db.prepare('SELECT gateway, count(*) AS n FROM records GROUP BY gateway').all() as {
            gateway: string;
            n: number;
          }[],
          unjudged: db
            .prepare('SELECT count(*) FROM messages WHERE judged = 0 AND good = 1')
            .pluck()
            .get() as number,
          open: db.prepare('SELECT count(*) FROM epochs WHERE judged_through < high').pluck().get() as number,
        }),
        (s) =>
          s.unjudged === 0 &&
          s.open === 0 &&
          s.records.length === expected.size &&
          s.records.every((r) => r.n === expected.get(r.gateway)),
      );
      expect(done.records).toHaveLength(4);
      for (const c of consumers) expect(await c.stop()).toBe(0);

      const db = new Database(store, { readonly: true });
      closers.push(() => void db.close());
      // Every seq of every real gateway once, nothing of the faulty one's dropped or altered messages.
      for (const g of real) {
        const seqs = db.prepare('SELECT seq FROM records WHERE gateway = ? ORDER BY seq').pluck().all(g.id);
        expect(seqs).toEqual(Array.from({ length: g.log.lastSeq }, (_, i) => i + 1));
      }
      // The consumers really shared the work: each stored messages of the gateways.
      const perConsumer = db
        .prepare('SELECT consumer, count(*) AS n FROM messages GROUP BY consumer ORDER BY consumer')
        .all() as { consumer: string; n: number }[];
      expect(perConsumer.map((r) => r.consumer)).toEqual(['consumer-1', 'consumer-2', 'consumer-3']);
      expect(perConsumer.every((r) => r.n > 0)).toBe(true);
      expect(
        db
          .prepare('SELECT deliveries FROM messages WHERE first = ? AND gateway = ?')
          .pluck()
          .get(fault.messages[DOUBLED]!.first, fault.id),
      ).toBe(2);

      // Handed on: the consumers' JSON lines together hold every stored record exactly once.
      const handed = consumers.flatMap((c) =>
        readFileSync(tmp.file(`${c.id}.jsonl`), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { gateway: string; seq: number }),
      );
      const keysHanded = handed.map((r) => `${r.gateway}/${r.seq}`);
      expect(new Set(keysHanded).size).toBe(keysHanded.length);
      expect(handed.length).toBe([...expected.values()].reduce((a, b) => a + b, 0));

      // Findings: exactly three, each recorded and printed once across the consumers.
      const at = (i: number) => [fault.messages[i]!.first, fault.messages[i]!.last];
      const findings = db
        .prepare('SELECT kind, gateway, first, last FROM findings ORDER BY kind')
        .raw()
        .all();
      expect(findings).toEqual([
        ['bad_signature', fault.id, ...at(ALTERED)],
        ['broken_chain', fault.id, ...at(DROPPED + 1)],
        ['gap', fault.id, ...at(DROPPED)],
      ]);
      const printed = consumers.flatMap((c) => c.stdout().split('\n').filter(Boolean));
      expect(printed.map((l) => l.split(' ')[0]).sort()).toEqual(['bad_signature', 'broken_chain', 'gap']);

      // The final judgement over the store finds nothing new and exits non-zero on the three.
      const judged = await lantian(['receive', '--judge', '--store', store]);
      expect(judged.code).toBe(1);
      expect(judged.stdout).toContain('receive: 3 finding(s)');
      expect(judged.stdout).toContain(`gateway gw-a log ${real[0]!.log.logId}:`);
    },
    300_000,
  );
});
