/**
 * Frames from a TCP byte stream. A frame runs from `##` to the first CRLF; the length field is
 * checked by the parser but never trusted for framing, so a lying length or a truncated frame
 * costs only itself: after any failure the stream resynchronises on the next `##`.
 * (Encrypted packets cannot be framed by their length at all: A.2 writes the plain length.)
 */
import { LantianError } from '../../core/errors.js';
import { parseFrame, type ParseOptions, type ParsedPacket } from './parse.js';

export type StreamItem =
  { ok: true; parsed: ParsedPacket; raw: string } | { ok: false; error: LantianError; raw: string };

/** Longest run without a line end before the bytes are given up (an encrypted frame is ~5.3 kB). */
export const MAX_FRAME_BYTES = 8192;

const HASHES = Buffer.from('##');
const CRLF = Buffer.from('\r\n');

export class FrameStream {
  private buf = Buffer.alloc(0);

  constructor(private readonly options: ParseOptions = {}) {}

  /** Bytes held while waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): StreamItem[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: StreamItem[] = [];
    for (;;) {
      const start = this.buf.indexOf(HASHES);
      if (start < 0) {
        // Keep a trailing '#': it may be the first half of the next frame's '##'.
        const keep = this.buf.at(-1) === 0x23 ? 1 : 0;
        this.drop(this.buf.length - keep, out, 'bytes outside any frame');
        return out;
      }
      if (start > 0) this.drop(start, out, 'bytes before ##');
      const end = this.buf.indexOf(CRLF, 2);
      if (end < 0) {
        if (this.buf.length <= MAX_FRAME_BYTES) return out;
        this.dropToNextStart(this.buf.length, out, `no line end within ${MAX_FRAME_BYTES} bytes`);
        continue;
      }
      const raw = this.buf.subarray(0, end + 2).toString('utf8');
      try {
        const parsed = parseFrame(raw, this.options);
        out.push({ ok: true, parsed, raw });
        this.buf = this.buf.subarray(end + 2);
      } catch (e) {
        if (!(e instanceof LantianError)) throw e;
        this.dropToNextStart(end + 2, out, undefined, e);
      }
    }
  }

  /** Drops the failed candidate up to the next `##` inside it (a good frame may start there). */
  private dropToNextStart(limit: number, out: StreamItem[], why?: string, error?: LantianError): void {
    const next = this.buf.indexOf(HASHES, 1);
    const cut = next > 0 && next < limit ? next : limit;
    const raw = this.buf.subarray(0, cut).toString('utf8');
    out.push({
      ok: false,
      raw,
      error: error ?? new LantianError('HJ212_FRAME', why ?? 'unframed bytes', { context: { bytes: cut } }),
    });
    this.buf = this.buf.subarray(cut);
  }

  private drop(n: number, out: StreamItem[], why: string): void {
    if (n <= 0) return;
    const raw = this.buf.subarray(0, n).toString('utf8');
    if (raw.trim() !== '') {
      out.push({
        ok: false,
        raw,
        error: new LantianError('HJ212_FRAME', `${n} ${why}`, { context: { bytes: n } }),
      });
    }
    this.buf = this.buf.subarray(n);
  }
}
