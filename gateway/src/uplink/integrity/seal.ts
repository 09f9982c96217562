/**
 * Signed, hash-chained record messages. Every record message (data, agg, events, blob) carries a
 * `seal`: the key's fingerprint, the log epoch (`log_id`) of its seqs, the chain it belongs to,
 * the hash of the previous message of that chain and an Ed25519 signature over the message's
 * canonical encoding (RFC 8785, JSON Canonicalization Scheme). A platform holding the gateway's
 * public key can then prove that no record was altered (signature), and that no message was
 * dropped, inserted or reordered (chain) — without trusting the broker or its own storage.
 *
 * `lane` (live / replay) is transport metadata and is not signed: a message first sent live and
 * re-sent from the backlog after an outage is the same evidence and carries the same signature.
 */
import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { LantianError } from '../../core/errors.js';
import { fingerprint } from './keys.js';

/** Fields left out of the signed bytes, and why: see the module comment. */
export const UNSIGNED_FIELDS = ['lane'] as const;

export interface Seal {
  alg: 'ed25519';
  /** Fingerprint of the signing key (`SHA256:…`). */
  key: string;
  /** The log epoch (`log_id`) the message's seqs belong to; a new epoch starts new chains. */
  log: string;
  /** data, agg, events or blob/<kind>: one chain per record topic and epoch. */
  chain: string;
  /** Hex SHA-256 of the previous sealed message of this chain; null for its first message. */
  prev: string | null;
  /** Base64 Ed25519 signature over the canonical encoding of the message without its `sig`. */
  sig: string;
}

export type Sealed<T> = T & { seal: Seal };

function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined)
    throw new LantianError('INTEGRITY_INPUT', 'a message cannot be encoded canonically');
  return Buffer.from(text, 'utf8');
}

function withoutUnsigned(message: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...message };
  for (const f of UNSIGNED_FIELDS) delete copy[f];
  return copy;
}

/** The bytes the signature covers: the message without unsigned fields and without `seal.sig`. */
export function signedBytes(message: Record<string, unknown>): Buffer {
  const copy = withoutUnsigned(message);
  const seal = copy['seal'];
  if (seal !== null && typeof seal === 'object') {
    const rest: Record<string, unknown> = { ...(seal as Record<string, unknown>) };
    delete rest['sig'];
    copy['seal'] = rest;
  }
  return canonicalBytes(copy);
}

/** The hash the next message of the chain names as `prev`: over the whole sealed message. */
export function messageHash(message: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalBytes(withoutUnsigned(message)))
    .digest('hex');
}

/** True when the seal's signature holds for this message under `publicKey`. */
export function checkSignature(message: Record<string, unknown>, publicKey: KeyObject): boolean {
  const seal = message['seal'] as Partial<Seal> | undefined;
  if (!seal || typeof seal.sig !== 'string') return false;
  // Node's base64 decoder skips characters it does not know: insist on the one canonical spelling
  // of the 64 signature bytes, so that no character of a sealed message can change unnoticed.
  const sig = Buffer.from(seal.sig, 'base64');
  if (sig.length !== 64 || sig.toString('base64') !== seal.sig) return false;
  try {
    return edVerify(null, signedBytes(message), publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * Seals messages and keeps the head of each chain. Heads are the caller's to persist (with the
 * log) so chains continue across restarts: `heads()` to save, the constructor to restore.
 */
export class Signer {
  readonly fingerprint: string;
  private readonly chainHeads: Map<string, string>;

  constructor(
    private readonly privateKey: KeyObject,
    heads: Iterable<[string, string]> = [],
  ) {
    this.fingerprint = fingerprint(privateKey);
    this.chainHeads = new Map(heads);
  }

  static chainKey(log: string, chain: string): string {
    return `${log}/${chain}`;
  }

  head(log: string, chain: string): string | null {
    return this.chainHeads.get(Signer.chainKey(log, chain)) ?? null;
  }

  heads(): [string, string][] {
    return [...this.chainHeads];
  }

  /** Seals `message` as the next of chain `chain` in epoch `log`, and advances the chain. */
  seal<T extends Record<string, unknown>>(log: string, chain: string, message: T): Sealed<T> {
    const prev = this.head(log, chain);
    const draft = { ...message, seal: { alg: 'ed25519', key: this.fingerprint, log, chain, prev } };
    const sig = edSign(null, signedBytes(draft), this.privateKey).toString('base64');
    const sealed = { ...message, seal: { ...draft.seal, sig } } as Sealed<T>;
    this.chainHeads.set(Signer.chainKey(log, chain), messageHash(sealed));
    return sealed;
  }
}
