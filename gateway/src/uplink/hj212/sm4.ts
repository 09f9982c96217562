/**
 * HJ 212-2025 §6.4 / Appendix A.2: SM4-ECB over the CP data area, 16-byte blocks, no padding.
 * Whole blocks are encrypted and written as `{0xE4,0x3E,…}`; the trailing < 16 characters stay
 * in clear after the closing brace. That brace form is the only marker of an encrypted area.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { LantianError } from '../../core/errors.js';

/** A key as configured: 16 ASCII characters (the A.2 test key is sixteen `0`s) or 32 hex digits. */
export function sm4Key(text: string): Buffer {
  if (/^[0-9A-Fa-f]{32}$/.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'utf8');
  if (b.length !== 16 || !/^[\x20-\x7e]+$/.test(text)) {
    throw new LantianError('HJ212_BUILD', 'an SM4 key is 16 ASCII characters or 32 hex digits', {
      context: { field: 'sm4Key', length: b.length },
    });
  }
  return b;
}

function ecb(key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv('sm4-ecb', key, null) : createDecipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export function isEncryptedArea(area: string): boolean {
  return area.startsWith('{0x');
}

/** Encrypts a clear data area (ASCII only: a block boundary must not cut a character). */
export function encryptArea(area: string, key: Buffer): string {
  if (Buffer.byteLength(area, 'utf8') !== area.length) {
    throw new LantianError('HJ212_BUILD', 'an encrypted data area must be ASCII', {
      context: { field: 'CP' },
    });
  }
  const bytes = Buffer.from(area, 'ascii');
  const whole = bytes.length - (bytes.length % 16);
  if (whole === 0) return area;
  const cipher = ecb(key, bytes.subarray(0, whole), true);
  const list = [...cipher].map((b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(',');
  return `{${list}}${area.slice(whole)}`;
}

/** Decrypts a `{0x..,..}tail` data area; throws HJ212_DECRYPT naming the position of a fault. */
export function decryptArea(area: string, key: Buffer | undefined): string {
  const end = area.indexOf('}');
  if (!isEncryptedArea(area) || end < 0) {
    throw new LantianError('HJ212_DECRYPT', 'the encrypted data area has no closing brace', {
      context: { field: 'CP', offset: area.length },
    });
  }
  if (!key) {
    throw new LantianError('HJ212_DECRYPT', 'the data area is SM4-encrypted and no key is configured', {
      context: { field: 'CP' },
    });
  }
  const parts = area.slice(1, end).split(',');
  const bytes = Buffer.alloc(parts.length);
  let offset = 1;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (!/^0[xX][0-9A-Fa-f]{1,2}$/.test(p)) {
      throw new LantianError('HJ212_DECRYPT', `cipher byte ${i + 1} is not 0xHH (got ${JSON.stringify(p)})`, {
        context: { field: 'CP', offset },
      });
    }
    bytes[i] = parseInt(p.slice(2), 16);
    offset += parts[i]!.length + 1;
  }
  if (bytes.length % 16 !== 0) {
    throw new LantianError('HJ212_DECRYPT', `${bytes.length} cipher bytes are not whole 16-byte blocks`, {
      context: { field: 'CP', bytes: bytes.length },
    });
  }
  return ecb(key, bytes, false).toString('latin1') + area.slice(end + 1);
}
