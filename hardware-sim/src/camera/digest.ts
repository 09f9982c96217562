/**
 * HTTP digest authentication as a camera checks it (RFC 7616, qop=auth, MD5 or SHA-256), with
 * Node's crypto for the hashes. This is the simulator's own reading of the RFC, written apart
 * from the gateway's client so that neither can hide a mistake of the other.
 */
import { createHash, randomBytes } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** How long an issued nonce is good for; an older one is answered with `stale=true`. */
const NONCE_LIFE_MS = 60_000;

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

/** The parameters of an `Authorization: Digest ...` header (quoted or token values). */
export function parseDigestParams(header: string): Map<string, string> | undefined {
  const m = /^\s*Digest\s+/i.exec(header);
  if (!m) return undefined;
  const out = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/g;
  re.lastIndex = m[0].length;
  let p: RegExpExecArray | null;
  while ((p = re.exec(header)) !== null) {
    if (p[0] === '') break;
    out.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  }
  return out;
}

export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'wrong';

export class DigestGuard {
  private readonly nonces = new Map<string, number>();

  constructor(
    readonly realm: string,
    private readonly credentials: () => { username: string; password: string },
    private readonly now: () => number,
    readonly algorithm: DigestAlgorithm = 'MD5',
  ) {}

  /** The `WWW-Authenticate` header of a 401: a fresh nonce. */
  challenge(stale = false): string {
    const nonce = randomBytes(16).toString('hex');
    const t = this.now();
    this.nonces.set(nonce, t);
    for (const [n, at] of this.nonces) if (t - at > NONCE_LIFE_MS) this.nonces.delete(n);
    const opaque = createHash('sha256').update(this.realm).digest('hex').slice(0, 32);
    return (
      `Digest realm="${this.realm}", qop="auth", nonce="${nonce}", opaque="${opaque}", ` +
      `algorithm=${this.algorithm}${stale ? ', stale=true' : ''}`
    );
  }

  /** Checks the Authorization header of a request for `method` and the request target `uri`. */
  check(method: string, uri: string, header: string | undefined): DigestVerdict {
    if (header === undefined) return 'missing';
    const p = parseDigestParams(header);
    if (!p) return 'missing';
    const nonce = p.get('nonce') ?? '';
    const issued = this.nonces.get(nonce);
    if (p.get('realm') !== this.realm || p.get('uri') !== uri) return 'wrong';
    const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (algorithm !== this.algorithm) return 'wrong';
    const { username, password } = this.credentials();
    if (p.get('username') !== username) return 'wrong';
    const ha1 = hash(this.algorithm, `${username}:${this.realm}:${password}`);
    const ha2 = hash(this.algorithm, `${method}:${uri}`);
    const qop = p.get('qop');
    const expected =
      qop === 'auth'
        ? hash(this.algorithm, `${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:auth:${ha2}`)
        : hash(this.algorithm, `${ha1}:${nonce}:${ha2}`);
    if (p.get('response') !== expected) return 'wrong';
    // A right answer to a nonce we no longer hold (expired, or never ours) is stale, not wrong.
    if (issued === undefined || this.now() - issued > NONCE_LIFE_MS) return 'stale';
    return 'ok';
  }
}
