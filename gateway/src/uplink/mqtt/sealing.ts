/**
 * Sealing for the MQTT publisher: every record message is signed as the next of its chain when it
 * is first built, stored in the seal ledger together with the new chain heads, and only then
 * published. A resend takes the stored bytes, so a message carries one signature and one
 * predecessor for ever, whatever happens to the connection or the process in between.
 */
import type { KeyObject } from 'node:crypto';
import { Signer } from '../integrity/seal.js';
import { archiveBytes, SealLedger, type SealedChunk, type SealedMessage } from '../integrity/ledger.js';
import type { Log } from '../../store/log.js';
import type { Lane } from './contract.js';
import type { MessageSealer } from './messages.js';

/** A seal's largest size in a payload: the seal field with a 64-hex `prev` and a 64-byte `sig`. */
function sealBytes(fingerprint: string, logId: string): number {
  const seal = {
    alg: 'ed25519',
    key: fingerprint,
    log: logId,
    chain: 'events',
    prev: 'f'.repeat(64),
    sig: Buffer.alloc(64).toString('base64'),
  };
  // Chains named blob/<kind> are longer: messages.ts reserves the difference for blob parts.
  return Buffer.byteLength(`,"seal":${JSON.stringify(seal)}`);
}

/**
 * The payload as sent on `lane`. `lane` is not signed (a replay is the same evidence), so a
 * resend changes that one field and leaves every other byte as it was.
 */
export function onLane(payload: string, lane: Lane): string {
  const body = JSON.parse(payload) as { lane?: unknown };
  if (body.lane === undefined || body.lane === lane) return payload;
  // Spreading keeps the key order, so only the lane's value changes.
  return JSON.stringify({ ...body, lane });
}

export class RecordSealer {
  readonly fingerprint: string;
  private signer: Signer;
  private readonly ledger: SealLedger;

  constructor(
    private readonly key: KeyObject,
    private readonly log: Log,
    uplink: string,
  ) {
    this.ledger = new SealLedger(log.database, uplink, archiveBytes(log.quotaBytes));
    this.signer = new Signer(key, this.ledger.heads());
    this.fingerprint = this.signer.fingerprint;
  }

  /** The key that sealed before this one, when it was another: a key change to put on record. */
  previousKey(): string | undefined {
    const last = this.ledger.lastKey();
    return last !== undefined && last !== this.fingerprint ? last : undefined;
  }

  /** Sealed chunks whose acknowledgement never came, in sealing order (see SealLedger.pending). */
  pending(isDone: (from: number, to: number) => boolean): SealedChunk[] {
    return this.ledger.pending(isDone);
  }

  /**
   * Seals what `build` makes from the chunk `from..to` and records it before returning. If that
   * fails (the ledger cannot be written, a payload breaks the contract), the chain heads go back
   * to where they were and the error throws:
   * nothing may go out that a resend could not repeat exactly.
   */
  seal(from: number, to: number, build: (sealer: MessageSealer) => SealedMessage[]): SealedMessage[] {
    const before = this.signer.heads();
    const logId = this.log.logId;
    const touched = new Set<string>();
    const sealer: MessageSealer = {
      reserveBytes: sealBytes(this.fingerprint, logId),
      seal: (chain, body) => {
        touched.add(Signer.chainKey(logId, chain));
        return this.signer.seal(logId, chain, body as Record<string, unknown>).seal;
      },
    };
    try {
      const messages = build(sealer);
      if (messages.length > 0) {
        const heads = this.signer.heads().filter(([k]) => touched.has(k));
        this.ledger.record({ from, to, messages }, heads, this.fingerprint);
      }
      return messages;
    } catch (e) {
      this.signer = new Signer(this.key, before);
      throw e;
    }
  }

  /** The chunk was acknowledged: its messages move to the archive a `resend` draws on. */
  acknowledged(from: number, to: number): void {
    this.ledger.forget(from, to);
  }

  /** The stored sealed messages of every chunk that overlaps `from..to` (see SealLedger.sealed). */
  sealed(from: number, to: number): SealedChunk[] {
    return this.ledger.sealed(from, to);
  }
}
