/**
 * Taking one picture from a camera over HTTP with digest authentication. The challenge of the
 * last exchange is kept per camera and answered at once next time (nonce count rising), so a
 * healthy camera costs one request per picture; a 401 then brings a fresh challenge and one retry.
 * A camera that refuses the answer to its own fresh challenge has another password: CAMERA_AUTH.
 */
import { LantianError } from '../core/errors.js';
import { canAnswer, digestAuthorization, parseChallenge, type DigestChallenge } from './digest.js';
import { httpExchange, safeUrl, type HttpAnswer } from './http.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Limits {
  timeoutMs: number;
  maxBytes: number;
}

export interface Picture {
  bytes: Buffer;
  contentType: string;
}

/** SOI at the start and EOI at the end (cameras may pad a few bytes after it). */
export function isJpeg(b: Buffer): boolean {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return false;
  const tail = b.subarray(Math.max(2, b.length - 16));
  for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return true;
  return false;
}

export class DigestSession {
  private challenge: DigestChallenge | undefined;
  private nc = 0;

  constructor(
    private readonly camera: string,
    private readonly credentials: Credentials,
  ) {}

  /** GET `url` with digest authentication; the answer of any status but 401. */
  async get(url: URL, limits: Limits): Promise<HttpAnswer> {
    const uri = url.pathname + url.search;
    const attempt = (c: DigestChallenge | undefined) =>
      httpExchange({
        camera: this.camera,
        method: 'GET',
        url,
        headers: c ? { authorization: digestAuthorization(c, this.credentials, 'GET', uri, ++this.nc) } : {},
        ...limits,
      });
    let answer = await attempt(this.challenge);
    if (answer.status !== 401) return answer;
    const fresh = parseChallenge(answer.headers['www-authenticate']);
    if (!fresh || !canAnswer(fresh)) {
      this.challenge = undefined;
      throw new LantianError(
        'CAMERA_AUTH',
        `camera ${this.camera}: ${safeUrl(url)} asks for an authentication this gateway does not speak ` +
          `(${String(answer.headers['www-authenticate'] ?? 'no WWW-Authenticate header')})`,
        { context: { camera: this.camera, url: safeUrl(url) } },
      );
    }
    // Answered with a cached challenge and refused: a new nonce may be all it takes.
    this.challenge = fresh;
    this.nc = 0;
    answer = await attempt(fresh);
    if (answer.status === 401) {
      const again = parseChallenge(answer.headers['www-authenticate']);
      this.challenge = undefined;
      if (!again?.stale) {
        throw new LantianError(
          'CAMERA_AUTH',
          `camera ${this.camera}: ${safeUrl(url)} refused user "${this.credentials.username}": wrong password ` +
            'or user name (check the secret in the secrets file against the camera)',
          { context: { camera: this.camera, url: safeUrl(url), username: this.credentials.username } },
        );
      }
      this.challenge = again;
      this.nc = 0;
      answer = await attempt(again);
    }
    return answer;
  }
}

/** The answer as a picture, or the coded reason it is not one. */
export function pictureOf(camera: string, url: URL, answer: HttpAnswer): Picture {
  const context = { camera, url: safeUrl(url), status: answer.status };
  if (answer.status === 401) {
    throw new LantianError('CAMERA_AUTH', `camera ${camera}: ${context.url} still asks for credentials`, {
      context,
    });
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new LantianError(
      'CAMERA_HTTP',
      `camera ${camera}: ${context.url} answered HTTP ${answer.status} instead of a picture`,
      { context },
    );
  }
  if (!isJpeg(answer.body)) {
    throw new LantianError(
      'CAMERA_BAD_IMAGE',
      `camera ${camera}: ${context.url} sent ${answer.body.length} bytes that are not a whole JPEG`,
      {
        context: {
          ...context,
          bytes: answer.body.length,
          contentType: answer.headers['content-type'] ?? null,
        },
      },
    );
  }
  return { bytes: answer.body, contentType: 'image/jpeg' };
}
