/** A gateway's sealed stream, built with the real Signer, for verifier tests. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import type { CapturedMessage } from '../../../gateway/src/uplink/integrity/verify.js';

export interface Stream {
  publicKey: KeyObject;
  privateKey: KeyObject;
  signer: Signer;
  messages: CapturedMessage[];
}

export function keyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export function reading(seq: number, value: number) {
  return {
    seq,
    ts: 1_700_000_000_000 + seq * 1000,
    device: 'stack1-gas',
    point: 'so2',
    value,
    flag: 'N',
    quality: [],
    raw: [seq & 0xffff, 0x4120],
  };
}

/** Data batches of `size` readings each over seqs 1..batches*size, with an event every `eventEvery` batches. */
export function sealedStream(batches: number, size = 3, log = 'log-a'): Stream {
  const { publicKey, privateKey } = keyPair();
  const signer = new Signer(privateKey);
  const messages: CapturedMessage[] = [];
  let seq = 1;
  for (let b = 0; b < batches; b++) {
    const readings = Array.from({ length: size }, () => reading(seq, seq++ * 1.5));
    const batch = {
      v: 1,
      gateway: 'gw1',
      lane: 'live',
      first: readings[0]!.seq,
      last: readings.at(-1)!.seq,
      count: size,
      readings,
    };
    messages.push({
      topic: 'lantian/v1/gw1/data',
      payload: signer.seal(log, 'data', batch),
      line: messages.length + 1,
    });
  }
  return { publicKey, privateKey, signer, messages };
}

export const clone = <T>(v: T): T => structuredClone(v);

/** One data batch of a single reading at `seq`, sealed as the next message of `log`'s data chain. */
export function sealOne(signer: Signer, log: string, seq: number) {
  const readings = [{ seq, ts: 1, device: 'd', point: 'p', value: 2, flag: 'N' }];
  return signer.seal(log, 'data', {
    v: 1,
    gateway: 'gw1',
    lane: 'live',
    first: seq,
    last: seq,
    count: 1,
    readings,
  });
}
