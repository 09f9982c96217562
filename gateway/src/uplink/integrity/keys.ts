/**
 * The gateway's Ed25519 key pair (Node's crypto). The private key signs every record message; the
 * platform holds the public key and proves with it that what it stored is what the gateway
 * measured. Files: `gateway.key` (PKCS #8 PEM, mode 0600) and `gateway.pub` (SPKI PEM) in the
 * gateway's state directory, beside the log.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LantianError } from '../../core/errors.js';

export const PRIVATE_KEY_FILE = 'gateway.key';
export const PUBLIC_KEY_FILE = 'gateway.pub';

export interface KeyFiles {
  privateKey: string;
  publicKey: string;
}

export function keyFiles(dir: string): KeyFiles {
  return { privateKey: join(dir, PRIVATE_KEY_FILE), publicKey: join(dir, PUBLIC_KEY_FILE) };
}

/**
 * `SHA256:` and the unpadded base64 of the SHA-256 of the raw 32-byte public key, as ssh prints
 * fingerprints: short enough to read over the phone, stable across PEM/DER encodings.
 */
export function fingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const raw = pub.export({ format: 'jwk' }).x;
  if (typeof raw !== 'string') throw new LantianError('INTEGRITY_KEY_INVALID', 'not an Ed25519 key');
  const digest = createHash('sha256').update(Buffer.from(raw, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/**
 * Creates a new key pair in `dir` and returns its files and fingerprint. Refuses to replace an
 * existing pair unless `force`: a new key breaks every platform's trust in this gateway until
 * its operator registers the new public key, so it must never happen by accident.
 */
export function createKeyPair(
  dir: string,
  options: { force?: boolean } = {},
): KeyFiles & { fingerprint: string } {
  const files = keyFiles(dir);
  if (!options.force && (existsSync(files.privateKey) || existsSync(files.publicKey))) {
    throw new LantianError('INTEGRITY_KEY_EXISTS', `a key pair already exists in ${dir}`, {
      context: {
        file: files.privateKey,
        hint: 'keep it, or pass --force to replace it (platforms must then register the new public key)',
      },
    });
  }
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  // Written 0600 from the start (mode applies on creation; chmod covers --force over an old file).
  writeFileSync(files.privateKey, pem, { mode: 0o600 });
  chmodSync(files.privateKey, 0o600);
  writeFileSync(files.publicKey, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
  return { ...files, fingerprint: fingerprint(publicKey) };
}

function readKeyFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new LantianError('INTEGRITY_KEY_INVALID', `cannot read key file ${file}`, {
      cause,
      context: { file, hint: 'create the pair with `lantian keys init`' },
    });
  }
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new LantianError(
      'INTEGRITY_KEY_INVALID',
      `${file} holds a ${key.asymmetricKeyType ?? 'secret'} key, not Ed25519`,
      {
        context: { file },
      },
    );
  }
  return key;
}

/** The private key; refused when group or others may read it (as ssh refuses). */
export function loadPrivateKey(file: string): KeyObject {
  const pem = readKeyFile(file);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new LantianError(
      'INTEGRITY_KEY_UNSAFE',
      `${file} is readable by others (mode ${mode.toString(8)})`,
      {
        context: { file, mode: mode.toString(8), hint: `chmod 600 ${file}` },
      },
    );
  }
  try {
    return ed25519(createPrivateKey(pem), file);
  } catch (cause) {
    if (cause instanceof LantianError) throw cause;
    throw new LantianError('INTEGRITY_KEY_INVALID', `${file} is not a PEM private key`, {
      cause,
      context: { file },
    });
  }
}

/** A public key from a PEM file (SPKI) or a private key file (its public half). */
export function loadPublicKey(file: string): KeyObject {
  const pem = readKeyFile(file);
  try {
    return ed25519(createPublicKey(pem), file);
  } catch (cause) {
    if (cause instanceof LantianError) throw cause;
    throw new LantianError('INTEGRITY_KEY_INVALID', `${file} is not a PEM public key`, {
      cause,
      context: { file },
    });
  }
}
