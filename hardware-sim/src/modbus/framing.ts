/**
 * Framing of requests on byte streams. On a real RS-485 line an RTU frame ends with a silence of
 * 3.5 characters; ptys and TCP sockets deliver bytes in arbitrary chunks with no timing meaning,
 * so RTU requests are delimited by their length (known from the function code) and checked by
 * CRC, and a silence only decides frames whose length cannot be known (unknown function codes)
 * or throws away an incomplete frame. A frame that fails its CRC is skipped byte by byte, so the
 * engine finds the next good frame after line noise, as a real slave does after the next silence.
 */
import { crcValid } from './crc.js';

/** Largest RTU frame: address + 253-byte PDU + CRC. */
export const MAX_RTU_FRAME = 256;

/**
 * Length of an RTU request (address to CRC) from its first bytes: a number, `undefined` when more
 * bytes are needed to know it, or `null` when the function code does not tell the length.
 */
export function rtuRequestLength(buf: Uint8Array): number | null | undefined {
  if (buf.length < 2) return undefined;
  const fc = buf[1]!;
  const at = (i: number, f: (v: number) => number) => (buf.length > i ? f(buf[i]!) : undefined);
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 8:
      return 8;
    case 7:
    case 11:
    case 12:
    case 17:
      return 4;
    case 15:
    case 16:
      return at(6, (n) => 9 + n);
    case 20:
    case 21:
      return at(2, (n) => 5 + n);
    case 22:
      return 10;
    case 23:
      return at(10, (n) => 13 + n);
    case 24:
      return 6;
    case 43:
      // MEI 14 (device identification) requests are 7 bytes; other MEI types: length unknown.
      if (buf.length < 3) return undefined;
      return buf[2] === 0x0e ? 7 : null;
    default:
      return null;
  }
}

export interface FramerOptions {
  /** Silence in ms that ends a frame whose length is unknown. */
  idleMs: number;
  /** Ms after the last byte at which an incomplete frame is thrown away. */
  frameTimeoutMs: number;
  onFrame(frame: Buffer): void;
  /** Bytes skipped as noise (bad CRC, incomplete, unknown). */
  onDiscard?(bytes: Buffer): void;
}

export class RtuRequestFramer {
  private buf: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private lastByteAt = 0;

  constructor(private readonly options: FramerOptions) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    this.lastByteAt = performance.now();
    this.extract(false);
    this.arm();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buf = Buffer.alloc(0);
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buf.length === 0) return;
    const len = rtuRequestLength(this.buf);
    const wait = len === null ? this.options.idleMs : this.options.frameTimeoutMs;
    const left = this.lastByteAt + wait - performance.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.extract(true);
      },
      Math.max(0, left),
    );
  }

  /** `final`: the line has been silent, so whatever is buffered is all there is. */
  private extract(final: boolean): void {
    const discarded: number[] = [];
    let pos = 0;
    const buf = this.buf;
    while (buf.length - pos >= (final ? 1 : 4)) {
      const rest = buf.subarray(pos);
      const len = rtuRequestLength(rest);
      if (len === null && final && crcValid(rest)) {
        this.options.onFrame(Buffer.from(rest));
        pos = buf.length;
        break;
      }
      const known = typeof len === 'number' && len >= 4 && len <= MAX_RTU_FRAME;
      if (!known && len !== undefined && len !== null) {
        discarded.push(rest[0]!);
        pos++;
        continue;
      }
      if (!known || rest.length < len) {
        if (!final) {
          // Noise of unknown length in front: skip to a good frame behind it, if one is there.
          const next = len === null ? goodFrameAfter(rest) : -1;
          if (next < 0) break;
          for (const b of rest.subarray(0, next)) discarded.push(b);
          pos += next;
          continue;
        }
        discarded.push(rest[0]!);
        pos++;
        continue;
      }
      const frame = rest.subarray(0, len);
      if (crcValid(frame)) {
        this.options.onFrame(Buffer.from(frame));
        pos += len;
      } else {
        discarded.push(rest[0]!);
        pos++;
      }
    }
    if (final && pos < buf.length) {
      for (const b of buf.subarray(pos)) discarded.push(b);
      pos = buf.length;
    }
    this.buf = Buffer.from(buf.subarray(pos));
    if (discarded.length > 0) this.options.onDiscard?.(Buffer.from(discarded));
  }
}

/** Offset (from 1) of the first complete frame of known length with a good CRC, or -1. */
function goodFrameAfter(buf: Buffer): number {
  for (let p = 1; p + 4 <= buf.length; p++) {
    const len = rtuRequestLength(buf.subarray(p));
    if (typeof len === 'number' && len >= 4 && p + len <= buf.length && crcValid(buf.subarray(p, p + len)))
      return p;
  }
  return -1;
}

export interface MbapFrame {
  transactionId: number;
  unitId: number;
  pdu: Buffer;
}

/** Splits a Modbus TCP stream into MBAP frames. Returns false when the stream is not Modbus TCP. */
export class MbapFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: MbapFrame) => void) {}

  push(chunk: Buffer): boolean {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 7) {
      const protocolId = this.buf.readUInt16BE(2);
      const length = this.buf.readUInt16BE(4);
      // length counts the unit id and the PDU; a PDU is 1..253 bytes.
      if (length < 2 || length > 254) return false;
      if (this.buf.length < 6 + length) break;
      const frame = this.buf.subarray(0, 6 + length);
      this.buf = Buffer.from(this.buf.subarray(6 + length));
      // Frames of other protocols are discarded, as the Modbus TCP specification says.
      if (protocolId !== 0) continue;
      this.onFrame({
        transactionId: frame.readUInt16BE(0),
        unitId: frame[6]!,
        pdu: Buffer.from(frame.subarray(7)),
      });
    }
    return true;
  }
}

export function mbapFrame(transactionId: number, unitId: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(transactionId, 0);
  head.writeUInt16BE(0, 2);
  head.writeUInt16BE(pdu.length + 1, 4);
  head[6] = unitId;
  return Buffer.concat([head, pdu]);
}
