/**
 * The platform's side of a command: what a platform (or an integrator's tool acting for it, such
 * as the Node-RED `lantian command` node) publishes on `cmd/<name>`. The gateway checks it with
 * `commandSignatureHolds` (handler.ts); docs/commands.md describes the envelope.
 */
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CONTRACT_VERSION } from '../mqtt/contract.js';

export interface SignedCommand {
  v: number;
  id: string;
  ts: number;
  nonce: string;
  args: unknown;
  sig: string;
}

/**
 * Signs a command with the platform's Ed25519 key over the RFC 8785 encoding of everything but
 * `sig`. A fresh nonce (16 base64url characters from 12 random bytes) makes each one usable once.
 */
export function signCommand(id: string, args: unknown, key: KeyObject, now: number): SignedCommand {
  const body = {
    v: CONTRACT_VERSION,
    id,
    ts: now,
    nonce: randomBytes(12).toString('base64url'),
    args: args ?? {},
  };
  const text = canonicalize(body);
  if (text === undefined) throw new TypeError('a command must be JSON');
  return { ...body, sig: sign(null, Buffer.from(text), key).toString('base64') };
}
