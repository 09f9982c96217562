import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import {
  parseCaptureLine,
  StreamVerifier,
  type CapturedMessage,
} from '../../../gateway/src/uplink/integrity/verify.js';
import { clone, sealedStream, sealOne } from './chain.js';

function run(publicKey: KeyObject, messages: CapturedMessage[]) {
  const v = new StreamVerifier(publicKey);
  for (const m of messages) v.push(m);
  return v.finish();
}

const brief = (r: ReturnType<typeof run>) => r.findings.map((f) => ({ kind: f.kind, seqs: f.seqs }));

describe('the stream verifier', () => {
  it('finds nothing wrong in an intact stream and counts its records', () => {
    const s = sealedStream(5);
    const r = run(s.publicKey, s.messages);
    expect(r.findings).toEqual([]);
    expect(r.epochs).toEqual([
      {
        gateway: 'gw1',
        log: 'log-a',
        messages: 5,
        records: 15,
        firstSeq: 1,
        lastSeq: 15,
        joinedMidChain: [],
      },
    ]);
  });

  it('reports one altered reading as a bad signature on exactly its batch, and nothing else', () => {
    const s = sealedStream(5);
    const messages = clone(s.messages);
    (messages[2]!.payload as { readings: { value: number }[] }).readings[1]!.value = 0;
    expect(brief(run(s.publicKey, messages))).toEqual([{ kind: 'bad_signature', seqs: [7, 9] }]);
  });

  it('reports a dropped batch as a broken chain and a gap with its seqs', () => {
    const s = sealedStream(5);
    const messages = s.messages.filter((_, i) => i !== 3);
    expect(brief(run(s.publicKey, messages))).toEqual([
      { kind: 'broken_chain', seqs: [13, 15] },
      { kind: 'gap', seqs: [10, 12] },
    ]);
  });

  it('reports a message sent twice as a duplicate, and a late message as reordered once', () => {
    const s = sealedStream(4);
    const dup = [...s.messages, s.messages[1]!];
    expect(brief(run(s.publicKey, dup))).toEqual([{ kind: 'duplicate', seqs: [4, 6] }]);
    const swapped = [s.messages[0]!, s.messages[2]!, s.messages[1]!, s.messages[3]!];
    expect(brief(run(s.publicKey, swapped))).toEqual([{ kind: 'reorder', seqs: [4, 6] }]);
  });

  it('accepts a hole that a gap event announces, and reports one it does not', () => {
    const s = sealedStream(2, 3);
    const gap = s.signer.seal('log-a', 'events', {
      v: 1,
      gateway: 'gw1',
      lane: 'live',
      seq: 10,
      ts: 1,
      kind: 'gap',
      payload: { from: 7, to: 9, count: 3, reason: 'quota', kinds: ['reading'], uplinks: ['mqtt'] },
    });
    const later = sealOne(s.signer, 'log-a', 11);
    const announced = [
      ...s.messages,
      { topic: 'lantian/v1/gw1/events', payload: gap },
      { topic: 'lantian/v1/gw1/data', payload: later },
    ];
    expect(run(s.publicKey, announced).findings).toEqual([]);
    expect(brief(run(s.publicKey, [...s.messages, announced[3]!]))).toEqual([{ kind: 'gap', seqs: [7, 10] }]);
  });

  it('reports unsigned records, a foreign key and a chain that restarts inside one epoch', () => {
    const s = sealedStream(2);
    const unsigned = clone(s.messages[0]!);
    delete (unsigned.payload as { seal?: unknown }).seal;
    expect(brief(run(s.publicKey, [unsigned]))).toEqual([{ kind: 'unsigned', seqs: [1, 3] }]);
    const foreign = sealedStream(1);
    expect(brief(run(s.publicKey, foreign.messages))[0]).toEqual({ kind: 'wrong_key', seqs: [1, 3] });
    const fresh = new Signer(s.privateKey);
    const restarted = sealOne(fresh, 'log-a', 7);
    expect(
      brief(run(s.publicKey, [...s.messages, { topic: 'lantian/v1/gw1/data', payload: restarted }])),
    ).toEqual([{ kind: 'broken_chain', seqs: [7, 7] }]);
  });

  it('keeps epochs apart: a new log_id starts new chains and a new seq space', () => {
    const s = sealedStream(2);
    const next = sealOne(s.signer, 'log-b', 1);
    const r = run(s.publicKey, [...s.messages, { topic: 'lantian/v1/gw1/data', payload: next }]);
    expect(r.findings).toEqual([]);
    expect(r.epochs.map((e) => [e.log, e.records])).toEqual([
      ['log-a', 6],
      ['log-b', 1],
    ]);
  });

  it('reads mosquitto_sub -v lines and JSON lines, and ignores state and health', () => {
    const s = sealedStream(1);
    const payload = JSON.stringify(s.messages[0]!.payload);
    expect(parseCaptureLine(`lantian/v1/gw1/data ${payload}`, 1)).toMatchObject({
      topic: 'lantian/v1/gw1/data',
      line: 1,
    });
    expect(parseCaptureLine(JSON.stringify({ topic: 't/data', payload }), 2)?.topic).toBe('t/data');
    expect(parseCaptureLine(payload, 3)?.topic).toBeNull();
    expect(parseCaptureLine('   ', 4)).toBeNull();
    const r = run(s.publicKey, [
      { topic: 'lantian/v1/gw1/state', payload: { v: 1, gateway: 'gw1', state: 'online', ts: 1 } },
      parseCaptureLine(payload, 3)!,
    ]);
    expect(r.findings).toEqual([]);
    expect(r.ignored).toBe(1);
  });
});
