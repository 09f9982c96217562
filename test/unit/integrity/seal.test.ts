import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSignature, messageHash, Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import { StreamVerifier } from '../../../gateway/src/uplink/integrity/verify.js';
import { clone, sealedStream, sealOne } from './chain.js';

type Json = Record<string, unknown>;

describe('sealed messages', () => {
  it('verify under the public key and name the previous message of their chain', () => {
    const s = sealedStream(3);
    const [a, b, c] = s.messages.map((m) => m.payload as Json & { seal: { prev: string | null } });
    for (const m of [a!, b!, c!]) expect(checkSignature(m, s.publicKey)).toBe(true);
    expect(a!.seal.prev).toBeNull();
    expect(b!.seal.prev).toBe(messageHash(a!));
    expect(c!.seal.prev).toBe(messageHash(b!));
  });

  it('keep their signature when re-sent on the replay lane, since the lane is not evidence', () => {
    const s = sealedStream(1);
    const replayed = { ...(s.messages[0]!.payload as Json), lane: 'replay' };
    expect(checkSignature(replayed, s.publicKey)).toBe(true);
    expect(messageHash(replayed)).toBe(messageHash(s.messages[0]!.payload as Json));
  });

  it('fail under another key and after any change to a reading', () => {
    const s = sealedStream(1);
    const other = generateKeyPairSync('ed25519').publicKey;
    const m = s.messages[0]!.payload as Json & { readings: { value: number; flag: string }[] };
    expect(checkSignature(m, other)).toBe(false);
    const altered = clone(m);
    altered.readings[1]!.value += 0.001;
    expect(checkSignature(altered, s.publicKey)).toBe(false);
    const reflagged = clone(m);
    reflagged.readings[0]!.flag = 'C';
    expect(checkSignature(reflagged, s.publicKey)).toBe(false);
  });

  it('are the same bytes whatever the key order, so a platform may re-serialise them', () => {
    const s = sealedStream(1);
    const m = s.messages[0]!.payload as Json;
    const reordered = Object.fromEntries(Object.entries(m).reverse());
    expect(checkSignature(reordered, s.publicKey)).toBe(true);
  });

  it('continue their chain across a restart when the signer is given its saved heads', () => {
    const s = sealedStream(2);
    const restarted = new Signer(s.privateKey, s.signer.heads());
    const next = sealOne(restarted, 'log-a', 7);
    expect(next.seal.prev).toBe(messageHash(s.messages[1]!.payload as Json));
    const v = new StreamVerifier(s.publicKey);
    for (const m of s.messages) v.push(m);
    v.push({ topic: 'lantian/v1/gw1/data', payload: next });
    expect(v.finish().findings).toEqual([]);
  });

  it('detect any single byte flipped in the serialised message', () => {
    const s = sealedStream(1, 2);
    const text = JSON.stringify(s.messages[0]!.payload);
    fc.assert(
      fc.property(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bytes = Buffer.from(text, 'utf8');
        bytes[at] = bytes[at]! ^ xor;
        const flipped = bytes.toString('utf8');
        if (flipped === text) return true;
        let payload: unknown;
        try {
          payload = JSON.parse(flipped);
        } catch {
          return true; // not JSON any more: a platform cannot take it as a message
        }
        const v = new StreamVerifier(s.publicKey);
        v.push({ topic: 'lantian/v1/gw1/data', payload, line: 1 });
        const report = v.finish();
        // Detected, unless the flip left the same JSON value (e.g. whitespace outside a string).
        return report.findings.length > 0 || JSON.stringify(payload) === text;
      }),
      { numRuns: 2000 },
    );
  });
});
