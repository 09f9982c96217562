/**
 * One HTTP exchange with a camera, with the limits a site needs: a deadline for the whole answer
 * (a camera that accepts the connection and hangs, or trickles its picture out a few bytes a
 * second, must not hold the gateway), and a cap on the body size. Failures are coded
 * CAMERA_UNREACHABLE / CAMERA_TIMEOUT / CAMERA_BAD_IMAGE, each naming the camera and the URL.
 */
import type { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { LantianError } from '../core/errors.js';

/**
 * Node's http and https modules load with the first exchange: a gateway without cameras never
 * needs them, and they are some 20 of Node's own modules (docs/footprint.md, "Plain MQTT without
 * the other protocols").
 */
const requireBuiltin = createRequire(import.meta.url);
function requestOf(url: URL): typeof httpRequest {
  const mod = url.protocol === 'https:' ? 'node:https' : 'node:http';
  return (requireBuiltin(mod) as { request: typeof httpRequest }).request;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpCall {
  camera: string;
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, connect to last byte, must fit in this many ms. */
  timeoutMs: number;
  maxBytes: number;
}

/** The URL as logged and put in errors: without user name or password. */
export function safeUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

export function httpExchange(call: HttpCall): Promise<HttpAnswer> {
  const { camera, url } = call;
  const context = { camera, url: safeUrl(url) };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (e: LantianError | undefined, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(answer!);
    };
    const send = requestOf(url);
    const req = send(url, { method: call.method, headers: call.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > call.maxBytes) {
          finish(
            new LantianError(
              'CAMERA_BAD_IMAGE',
              `camera ${camera}: the answer from ${context.url} is larger than ${call.maxBytes} bytes`,
              { context: { ...context, maxBytes: call.maxBytes } },
            ),
          );
          return;
        }
        chunks.push(c);
      });
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (e) =>
        finish(
          new LantianError(
            'CAMERA_UNREACHABLE',
            `camera ${camera}: the answer from ${context.url} broke off`,
            {
              cause: e,
              context,
            },
          ),
        ),
      );
    });
    const deadline = setTimeout(() => {
      finish(
        new LantianError(
          'CAMERA_TIMEOUT',
          `camera ${camera}: no whole answer from ${context.url} within ${call.timeoutMs} ms`,
          { context: { ...context, timeoutMs: call.timeoutMs } },
        ),
      );
    }, call.timeoutMs);
    req.on('error', (e: Error & { code?: string }) => {
      finish(
        new LantianError(
          'CAMERA_UNREACHABLE',
          `camera ${camera}: cannot reach ${context.url} (${e.code ?? e.message})`,
          { cause: e, context: { ...context, errno: e.code ?? null } },
        ),
      );
    });
    req.end(call.body);
  });
}
