/**
 * A blob larger than the message size limit goes out in parts: each part a whole message no
 * larger than maxMessageBytes (its seal included), valid against the contract, carrying the
 * blob's seq and a chunk field; joined in index order they are the blob's bytes, whose SHA-256
 * the parts announce. Sealed, each part is the next link of the blob/<kind> chain.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../gateway/src/store/index.js';
import { blobMessageSchema, topics, type BlobMessage } from '../../../gateway/src/uplink/mqtt/contract.js';
import { toMessages } from '../../../gateway/src/uplink/mqtt/messages.js';
import { RecordSealer } from '../../../gateway/src/uplink/mqtt/sealing.js';
import { messageHash } from '../../../gateway/src/uplink/integrity/seal.js';
import { useTempLog } from '../../helpers/temp-log.js';

const t = topics('lantian/v1/gw');
const blob = (bytes: Buffer): LogRecord => ({
  type: 'blob',
  seq: 42,
  ts: 1000,
  kind: 'snapshot',
  contentType: 'image/jpeg',
  bytes,
  source: 'gate',
  trigger: {
    reason: 'event',
    event: 41,
    eventKind: 'exceedance',
    device: 'dust',
    point: 'pm10',
    readings: [40],
  },
});

const join = (messages: { payload: string }[]) => {
  const bodies = messages.map((m) => blobMessageSchema.parse(JSON.parse(m.payload)));
  return { bodies, bytes: Buffer.concat(bodies.map((b) => Buffer.from(b.data, 'base64'))) };
};

const temp = useTempLog();

describe('blob parts', () => {
  it('sends a blob that fits as one message without a chunk field', () => {
    const bytes = randomBytes(600);
    const [m, ...rest] = toMessages([blob(bytes)], 'live', 'gw', t, true, 4096);
    expect(rest).toEqual([]);
    const body = JSON.parse(m!.payload) as BlobMessage;
    expect(body.chunk).toBeUndefined();
    expect(body).toMatchObject({ seq: 42, source: 'gate', trigger: { event: 41, readings: [40] } });
    expect(Buffer.from(body.data, 'base64').equals(bytes)).toBe(true);
  });

  for (const size of [5000, 5001, 5002, 20_000]) {
    it(`cuts ${size} bytes into parts within the limit that join to the same bytes`, () => {
      const bytes = randomBytes(size);
      const messages = toMessages([blob(bytes)], 'replay', 'gw', t, true, 2048);
      expect(messages.length).toBeGreaterThan(2);
      for (const m of messages) {
        expect(m.topic).toBe(t.blob('snapshot'));
        expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(2048);
      }
      const { bodies, bytes: joined } = join(messages);
      expect(joined.equals(bytes)).toBe(true);
      expect(bodies.map((b) => b.chunk!.index)).toEqual(bodies.map((_, i) => i));
      for (const b of bodies) {
        expect(b.chunk).toMatchObject({
          count: bodies.length,
          size,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
        expect([b.seq, b.source, b.trigger?.event]).toEqual([42, 'gate', 41]);
      }
    });
  }

  it('seals every part as the next link of the blob chain, each within the limit with its seal', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const sealer = new RecordSealer(privateKey, temp.open(), 'mqtt');
    const bytes = randomBytes(9000);
    const messages = sealer.seal(42, 42, (s) => toMessages([blob(bytes)], 'live', 'gw', t, true, 2048, s));
    expect(messages.length).toBeGreaterThan(4);
    let prev: string | null = null;
    for (const m of messages) {
      expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(2048);
      const body = JSON.parse(m.payload) as Record<string, unknown> & {
        seal: { chain: string; prev: string | null };
      };
      expect(body.seal.chain).toBe('blob/snapshot');
      expect(body.seal.prev).toBe(prev);
      prev = messageHash(body);
    }
    expect(join(messages).bytes.equals(bytes)).toBe(true);
  });
});
