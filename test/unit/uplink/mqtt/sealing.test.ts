/**
 * The publisher's sealer on its own: what it records before anything may go out, what it gives
 * back after a restart, what a failed build leaves behind, and how a resend changes only the lane.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SealedMessage } from '../../../../gateway/src/uplink/integrity/ledger.js';
import { messageHash } from '../../../../gateway/src/uplink/integrity/seal.js';
import type { MessageSealer } from '../../../../gateway/src/uplink/mqtt/messages.js';
import { onLane, RecordSealer } from '../../../../gateway/src/uplink/mqtt/sealing.js';
import { useTempLog } from '../../../helpers/temp-log.js';

const { open } = useTempLog();
const newKey = () => generateKeyPairSync('ed25519').privateKey;

/** A build that seals one event message per seq of `from..to` on chain `events`. */
const events =
  (from: number, to: number) =>
  (sealer: MessageSealer): SealedMessage[] => {
    const out: SealedMessage[] = [];
    for (let seq = from; seq <= to; seq++) {
      const body = { v: 1, lane: 'live', seq, kind: 'alarm' };
      out.push({
        topic: 'gw/events',
        payload: JSON.stringify({ ...body, seal: sealer.seal('events', body) }),
      });
    }
    return out;
  };

const hashOf = (m: SealedMessage) => messageHash(JSON.parse(m.payload) as Record<string, unknown>);
const sealOf = (m: SealedMessage) =>
  (JSON.parse(m.payload) as { seal: { prev: string | null; key: string; log: string; chain: string } }).seal;

describe('sealing record messages', () => {
  it('records every sealed message before returning it, and forgets a chunk once acknowledged', () => {
    const log = open();
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    const first = sealer.seal(1, 2, events(1, 2));
    const second = sealer.seal(3, 3, events(3, 3));
    expect(sealer.pending(() => false)).toEqual([
      { from: 1, to: 2, messages: first },
      { from: 3, to: 3, messages: second },
    ]);
    expect(sealOf(first[0]!)).toMatchObject({ key: sealer.fingerprint, log: log.logId, chain: 'events' });
    sealer.acknowledged(1, 2);
    expect(sealer.pending(() => false)).toEqual([{ from: 3, to: 3, messages: second }]);
  });

  it('keeps acknowledged messages for a resend within a sixteenth of the quota, the newest ones', () => {
    const log = open({ quotaBytes: 64 * 1024 });
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    let size = 0;
    for (let seq = 1; seq <= 300; seq++) {
      size = sealer.seal(seq, seq, events(seq, seq))[0]!.payload.length;
      sealer.acknowledged(seq, seq);
    }
    const kept = sealer.sealed(1, 300).map((c) => c.from);
    // Trimmed every 64 chunks down to 4 KiB: what was acknowledged since the last trim stays too.
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length * size).toBeLessThanOrEqual(4096 + 64 * size);
    expect(kept.at(-1)).toBe(300);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 301 - kept.length + i));
    expect(sealer.sealed(1, 1)).toEqual([]);
  });

  it('continues each chain after a restart from the head it recorded', () => {
    const key = newKey();
    const log = open();
    const [last] = new RecordSealer(key, log, 'mqtt').seal(1, 1, events(1, 1));
    const [next] = new RecordSealer(key, log, 'mqtt').seal(2, 2, events(2, 2));
    expect(sealOf(next!).prev).toBe(hashOf(last!));
    const [again] = new RecordSealer(key, log, 'other-uplink').seal(2, 2, events(2, 2));
    // Another uplink keeps chains of its own: its first message has no predecessor.
    expect(sealOf(again!).prev).toBeNull();
    expect(sealOf(last!).prev).toBeNull();
  });

  it('puts the chain heads back when a build fails, so the next message follows the last one sent', () => {
    const log = open();
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    const [sent] = sealer.seal(1, 1, events(1, 1));
    const failing = (s: MessageSealer): SealedMessage[] => {
      s.seal('events', { seq: 2 });
      throw new Error('a payload broke the contract');
    };
    expect(() => sealer.seal(2, 2, failing)).toThrow('a payload broke the contract');
    expect(sealer.pending(() => false)).toHaveLength(1);
    const [next] = sealer.seal(2, 2, events(2, 2));
    expect(sealOf(next!).prev).toBe(hashOf(sent!));
  });

  it('records nothing for a chunk that made no message', () => {
    const log = open();
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    expect(sealer.seal(1, 5, () => [])).toEqual([]);
    expect(sealer.pending(() => false)).toEqual([]);
    expect(new RecordSealer(newKey(), log, 'mqtt').previousKey()).toBeUndefined();
  });

  it('names the key that sealed before, only when it was another one', () => {
    const key = newKey();
    const log = open();
    const before = new RecordSealer(key, log, 'mqtt');
    expect(before.previousKey()).toBeUndefined();
    before.seal(1, 1, events(1, 1));
    expect(new RecordSealer(key, log, 'mqtt').previousKey()).toBeUndefined();
    expect(new RecordSealer(newKey(), log, 'mqtt').previousKey()).toBe(before.fingerprint);
  });

  it('reserves exactly the bytes of the largest seal: a chain event with a predecessor', () => {
    const log = open();
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    let reserved = 0;
    const body = { v: 1, seq: 2 };
    sealer.seal(1, 1, events(1, 1));
    sealer.seal(2, 2, (s) => {
      reserved = s.reserveBytes;
      return [{ topic: 'gw/events', payload: JSON.stringify({ ...body, seal: s.seal('events', body) }) }];
    });
    const [m] = sealer.pending(() => false)[1]!.messages;
    const seal = JSON.stringify((JSON.parse(m!.payload) as { seal: unknown }).seal);
    expect(reserved).toBe(Buffer.byteLength(`,"seal":${seal}`));
  });

  it('drops from the pending list the chunks the cursor already has', () => {
    const log = open();
    const sealer = new RecordSealer(newKey(), log, 'mqtt');
    sealer.seal(1, 1, events(1, 1));
    const kept = sealer.seal(2, 3, events(2, 3));
    expect(sealer.pending((from) => from === 1)).toEqual([{ from: 2, to: 3, messages: kept }]);
  });
});

describe('a resend on another lane', () => {
  it('changes the lane alone and keeps every other byte and the field order', () => {
    const payload = '{"v":1,"lane":"live","seq":7,"seal":{"sig":"x"}}';
    expect(onLane(payload, 'replay')).toBe('{"v":1,"lane":"replay","seq":7,"seal":{"sig":"x"}}');
    expect(onLane(payload, 'live')).toBe(payload);
  });

  it('returns a payload already on the lane as it is, byte for byte', () => {
    // Stored payloads are compact JSON; one that is not must still come back unchanged.
    const payload = '{ "v": 1, "lane": "replay", "seq": 7 }';
    expect(onLane(payload, 'replay')).toBe(payload);
  });

  it('leaves a message without a lane (state, health) as it is', () => {
    const payload = '{"v":1, "state":"online"}';
    expect(onLane(payload, 'replay')).toBe(payload);
  });
});
