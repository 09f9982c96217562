/**
 * Recorded gateways for the scale-out receiver: each gateway's data stream sealed with the real
 * Signer under its own key, as `topic payload` pairs ready to publish. Used by the shared-
 * subscription test and by bench/scale-out.ts (gateways simulated in numbers).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageHash, Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import type { IncomingMessage } from '../../../gateway/src/uplink/mqtt/receiver-store.js';

export interface RecordedGateway {
  id: string;
  log: string;
  publicKey: KeyObject;
  /** Sealed data messages in chain order. */
  messages: { topic: string; payload: string; first: number; last: number }[];
  lastSeq: number;
}

/** `batches` data messages of `size` readings each (seqs 1..batches*size), sealed in order. */
export function recordedGateway(
  id: string,
  batches: number,
  size: number,
  log = `log-${id}`,
): RecordedGateway {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const signer = new Signer(privateKey);
  const messages: RecordedGateway['messages'] = [];
  let seq = 1;
  for (let b = 0; b < batches; b++) {
    const first = seq;
    const readings = Array.from({ length: size }, () => {
      const s = seq++;
      return {
        seq: s,
        ts: 1_767_225_600_000 + s * 1000,
        device: 'stack1-gas',
        point: 'so2',
        value: Math.round(s * 13.7) / 10,
        flag: 'N',
        raw: [s & 0xffff, 0x4120],
      };
    });
    const batch = { v: 1, gateway: id, lane: 'live', first, last: seq - 1, count: size, readings };
    messages.push({
      topic: `lantian/v1/${id}/data`,
      payload: JSON.stringify(signer.seal(log, 'data', batch)),
      first,
      last: seq - 1,
    });
  }
  return { id, log, publicKey, messages, lastSeq: seq - 1 };
}

/** Writes each gateway's public key as `<dir>/<id>.pub`, as the receiver's key directory wants. */
export function writeKeys(dir: string, gateways: readonly { id: string; publicKey: KeyObject }[]): void {
  for (const g of gateways)
    writeFileSync(join(dir, `${g.id}.pub`), g.publicKey.export({ format: 'pem', type: 'spki' }));
}

/** A health message as the gateway publishes it, reduced to what the receiver reads. */
export function healthPayload(g: RecordedGateway, ackedThrough = g.lastSeq): string {
  return JSON.stringify({ v: 1, gateway: g.id, logId: g.log, uplink: { ackedThrough } });
}

/** A recorded message as the consumer that received it hands it to the store (signature good). */
export function incoming(g: RecordedGateway, i: number): IncomingMessage {
  const body = JSON.parse(g.messages[i]!.payload) as Record<string, unknown> & {
    seal: { prev: string | null };
  };
  const readings = body['readings'] as Record<string, unknown>[];
  return {
    gateway: g.id,
    log: g.log,
    chain: 'data',
    hash: messageHash(body),
    prev: body.seal.prev,
    first: g.messages[i]!.first,
    last: g.messages[i]!.last,
    good: true,
    records: readings.map((r) => ({ seq: r['seq'] as number, body: JSON.stringify(r) })),
  };
}
