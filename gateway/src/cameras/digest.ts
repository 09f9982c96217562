/**
 * The client side of HTTP digest authentication (RFC 7616): reads a camera's challenge and
 * answers it with qop=auth, MD5 or SHA-256 (plain or -sess), hashes from Node's crypto. Cameras
 * put spaces, brackets and commas in their realms ("IP Camera(C6596)"), so quoted values are
 * read as quoted strings, never split on commas or stripped of spaces.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: string;
  stale: boolean;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** The Digest challenge in a WWW-Authenticate header (which may also offer Basic), or undefined. */
export function parseChallenge(header: string | string[] | undefined): DigestChallenge | undefined {
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (text === undefined) return undefined;
  const start = /(?:^|[\s,])Digest\s+/i.exec(text);
  if (!start) return undefined;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  re.lastIndex = start.index + start[0].length;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    params.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const c: DigestChallenge = {
    realm,
    nonce,
    algorithm: (params.get('algorithm') ?? 'MD5').toUpperCase(),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
  const qop = params.get('qop');
  // qop may offer "auth,auth-int": take auth, the one a GET needs.
  if (qop !== undefined)
    c.qop = qop
      .split(',')
      .map((q) => q.trim())
      .includes('auth')
      ? 'auth'
      : qop;
  const opaque = params.get('opaque');
  if (opaque !== undefined) c.opaque = opaque;
  return c;
}

/** Whether this client can answer the challenge (a known algorithm, qop auth or none). */
export function canAnswer(c: DigestChallenge): boolean {
  const base = c.algorithm.replace(/-SESS$/, '');
  return HASHES[base] !== undefined && (c.qop === undefined || c.qop === 'auth');
}

const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** The Authorization header answering `c` for `method` on the request target `uri` (path?query). */
export function digestAuthorization(
  c: DigestChallenge,
  credentials: { username: string; password: string },
  method: string,
  uri: string,
  nc: number,
  cnonce = randomBytes(12).toString('hex'),
): string {
  const sess = c.algorithm.endsWith('-SESS');
  const h = (s: string) =>
    createHash(HASHES[c.algorithm.replace(/-SESS$/, '')]!)
      .update(s, 'utf8')
      .digest('hex');
  let ha1 = h(`${credentials.username}:${c.realm}:${credentials.password}`);
  if (sess) ha1 = h(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const response =
    c.qop === 'auth' ? h(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(uri)}`,
    `algorithm=${c.algorithm}`,
    `response=${quote(response)}`,
  ];
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.qop === 'auth') parts.push('qop=auth', `nc=${ncHex}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
