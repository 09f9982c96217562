import { afterEach, describe, expect, it } from 'vitest';
import { ReceiverStore } from '../../../gateway/src/uplink/mqtt/receiver-store.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { incoming, recordedGateway } from '../../integration/scale-out/streams.js';

describe('the store the scale-out consumers share', () => {
  let tmp: TempDir;
  const open: ReceiverStore[] = [];
  const store = (consumer: string) => {
    const s = new ReceiverStore(tmp.file('rx.db'), { consumer, settleMs: 1000 });
    open.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
    tmp?.remove();
  });

  it('takes one chain from two consumers in any order, each record once, and judges no finding', () => {
    tmp = tempDir('lantian-rx-store-');
    const [a, b] = [store('a'), store('b')];
    const g = recordedGateway('gw1', 8, 4);
    const order = [7, 2, 0, 5, 1, 3, 6, 4];
    const fresh = order.map((i, n) => (n % 2 ? a : b).ingest(incoming(g, i), 0).fresh.length);
    expect(fresh).toEqual(order.map(() => 4));
    expect(a.ingest(incoming(g, 3), 0)).toMatchObject({ duplicate: true, fresh: [] });
    b.health(g.id, g.log, g.lastSeq, 0);
    expect([...a.judge({ nowMs: 5000 }), ...b.judge({ nowMs: 5000 }), ...a.judge({ final: true })]).toEqual(
      [],
    );
    // Handed on in commit order (ids ascending), every seq once.
    const handed = a.records();
    expect(handed.map((r) => r.id)).toEqual([...handed.map((r) => r.id)].sort((x, y) => x - y));
    expect(handed.map((r) => r.seq).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 32 }, (_, i) => i + 1),
    );
    expect(a.epochs()).toMatchObject([{ gateway: 'gw1', records: 32, messages: 8, deliveries: 9 }]);
  });

  it('waits the settle time for a predecessor at another consumer, and reports one that never comes once', () => {
    tmp = tempDir('lantian-rx-store-');
    const [a, b] = [store('a'), store('b')];
    const g = recordedGateway('gw1', 6, 2);
    for (const i of [0, 1, 3, 5]) a.ingest(incoming(g, i), 0);
    // Message 2 is late, still within the settle time of message 3; message 4 never arrives.
    expect(b.judge({ nowMs: 900 })).toEqual([]);
    b.ingest(incoming(g, 2), 950);
    a.health(g.id, g.log, g.lastSeq, 100);
    const first = a.judge({ nowMs: 2000 });
    const again = [...b.judge({ nowMs: 3000 }), ...a.judge({ final: true })];
    expect(first.map((f) => [f.kind, f.first, f.last])).toEqual([
      ['broken_chain', g.messages[5]!.first, g.messages[5]!.last],
      ['gap', g.messages[4]!.first, g.messages[4]!.last],
    ]);
    expect(again).toEqual([]);
    expect(b.findings()).toHaveLength(2);
  });

  it('judges a missing seq only once the gateway said it delivered it and the settle time passed', () => {
    tmp = tempDir('lantian-rx-store-');
    const a = store('a');
    const g = recordedGateway('gw1', 4, 3);
    for (const i of [0, 2]) a.ingest(incoming(g, i), 59_500);
    // Seqs 4–6 may still be in the gateway's backlog: no health yet says otherwise.
    expect(a.judge({ nowMs: 60_000 })).toEqual([]);
    a.health(g.id, g.log, 9, 60_000);
    // The broken link has settled, the health mark not yet.
    expect(a.judge({ nowMs: 60_500 }).map((f) => [f.kind, f.first, f.last])).toEqual([
      ['broken_chain', 7, 9],
    ]);
    expect(a.judge({ nowMs: 61_000 }).map((f) => [f.kind, f.first, f.last])).toEqual([['gap', 4, 6]]);
  });

  it('takes a chain that starts with a live message above an older backlog, and reports a second start', () => {
    tmp = tempDir('lantian-rx-store-');
    const a = store('a');
    const message = (hash: string, prev: string | null, first: number, last: number) => ({
      gateway: 'gw1',
      log: 'log-gw1',
      chain: 'events',
      hash,
      prev,
      first,
      last,
      good: true,
      records: Array.from({ length: last - first + 1 }, (_, i) => ({
        seq: first + i,
        body: JSON.stringify({ seq: first + i }),
      })),
    });
    // Sealed in send order: the live event (seq 9) first, then the backlog (1-8) behind it.
    a.ingest(message('h-backlog', 'h-live', 1, 8), 0);
    a.ingest(message('h-live', null, 9, 9), 10);
    expect(a.judge({ nowMs: 5000 })).toEqual([]);
    // A chain that starts again in the same epoch: the signer lost its place.
    a.ingest(message('h-again', null, 10, 10), 6000);
    expect(a.judge({ final: true }).map((f) => [f.kind, f.first, f.last])).toEqual([
      ['broken_chain', 10, 10],
    ]);
  });

  it('reports a seq that arrives again with other content as a conflict, and keeps the first', () => {
    tmp = tempDir('lantian-rx-store-');
    const a = store('a');
    const g = recordedGateway('gw1', 2, 2);
    a.ingest(incoming(g, 0), 0);
    const forged = {
      ...incoming(g, 1),
      hash: 'f'.repeat(64),
      records: [{ seq: 2, body: '{"seq":2,"value":9}' }],
    };
    expect(a.ingest(forged, 0).findings).toMatchObject([{ kind: 'conflict', first: 2, last: 2 }]);
    expect(a.records().find((r) => r.seq === 2)!.body).toBe(incoming(g, 0).records[1]!.body);
  });
});
