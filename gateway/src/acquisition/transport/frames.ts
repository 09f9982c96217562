/**
 * Modbus framing for the read functions 01–04 and the writes 05, 06 and 16, written from the specification (Modbus
 * Application Protocol V1.1b3, Modbus over Serial Line V1.02, Messaging on TCP/IP V1.0b):
 * requests as RTU (unit, PDU, CRC-16) or MBAP (transaction id, protocol 0, length, unit, PDU),
 * replies found in a byte stream and checked against the request they answer.
 */
import type { FunctionCode } from '../planner.js';
import { isWrite, type Frame } from './types.js';

/** CRC-16/MODBUS: reflected polynomial 0xA001, initial 0xFFFF; sent low byte first. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const crcOk = (frame: Uint8Array): boolean => {
  const n = frame.length;
  const crc = crc16(frame.subarray(0, n - 2));
  return frame[n - 2] === (crc & 0xff) && frame[n - 1] === crc >> 8;
};

/** Length of a reply to a write (05, 06, 16): function, address, value or quantity. */
const WRITE_REPLY_PDU = 5;

/** A write's PDU: FC05 address and 0xFF00/0x0000, FC06 address and value, FC16 address, quantity, bytes, values. */
function writePdu(frame: Extract<Frame, { values: number[] }>): Buffer {
  if (frame.function === 16) {
    const pdu = Buffer.alloc(6 + 2 * frame.values.length);
    pdu[0] = 16;
    pdu.writeUInt16BE(frame.address, 1);
    pdu.writeUInt16BE(frame.values.length, 3);
    pdu[5] = 2 * frame.values.length;
    frame.values.forEach((w, i) => pdu.writeUInt16BE(w, 6 + 2 * i));
    return pdu;
  }
  const pdu = Buffer.alloc(5);
  pdu[0] = frame.function;
  pdu.writeUInt16BE(frame.address, 1);
  const v = frame.values[0] ?? 0;
  pdu.writeUInt16BE(frame.function === 5 ? (v ? 0xff00 : 0) : v, 3);
  return pdu;
}

/** The request's PDU: a read's function, start address and quantity, or a write's. */
export function requestPdu(frame: Frame): Buffer {
  if (isWrite(frame)) return writePdu(frame);
  const pdu = Buffer.alloc(5);
  pdu[0] = frame.function;
  pdu.writeUInt16BE(frame.address, 1);
  pdu.writeUInt16BE(frame.count, 3);
  return pdu;
}

/** Any PDU as an RTU frame: unit id, PDU, CRC-16 low byte first. */
export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([unitId]), pdu]);
  const crc = crc16(body);
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

/** Any PDU as a Modbus TCP frame: transaction id, protocol 0, length, unit id, PDU. */
export function mbapFrame(tid: number, unitId: number, pdu: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt16BE(tid, 0);
  head.writeUInt16BE(0, 2);
  head.writeUInt16BE(pdu.length + 1, 4);
  head[6] = unitId;
  return Buffer.concat([head, pdu]);
}

export const rtuRequest = (frame: Frame): Buffer => rtuFrame(frame.unitId, requestPdu(frame));

export const mbapRequest = (tid: number, frame: Frame): Buffer =>
  mbapFrame(tid, frame.unitId, requestPdu(frame));

/** Data bytes of a good reply to `frame`: bits packed 8 per byte, or 2 bytes per register. */
export function replyByteCount(fn: FunctionCode, count: number): number {
  return fn <= 2 ? Math.ceil(count / 8) : 2 * count;
}

/** A reply with its framing removed: unit id and PDU (function, then data). */
export interface Reply {
  unitId: number;
  pdu: Buffer;
  /** MBAP transaction id (Modbus TCP only). */
  tid?: number;
}

/** Function code a reply answers (the exception bit cleared). */
export const answeredFunction = (r: Reply): number => (r.pdu[0] ?? 0) & 0x7f;
export const isException = (r: Reply): boolean => ((r.pdu[0] ?? 0) & 0x80) !== 0;

/** How a reply fits a request: its answer, an exception, or a frame that answers something else. */
export type Fit =
  | { kind: 'data'; values: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'mismatch'; why: string };

export function fit(frame: Frame, r: Reply): Fit {
  if (r.unitId !== frame.unitId) return { kind: 'mismatch', why: `unit id ${r.unitId}` };
  if (answeredFunction(r) !== frame.function) {
    return { kind: 'mismatch', why: `function ${answeredFunction(r)}` };
  }
  if (isException(r)) {
    if (r.pdu.length !== 2) return { kind: 'mismatch', why: `exception of ${r.pdu.length - 1} bytes` };
    return { kind: 'exception', code: r.pdu[1]! };
  }
  if (isWrite(frame)) {
    // FC05/06 echo the request; FC16 echoes its address and quantity.
    const echo = requestPdu(frame).subarray(0, WRITE_REPLY_PDU);
    return r.pdu.equals(echo)
      ? { kind: 'data', values: [] }
      : { kind: 'mismatch', why: 'not the echo of the write' };
  }
  const want = replyByteCount(frame.function, frame.count);
  if (r.pdu[1] !== want || r.pdu.length !== 2 + want) {
    return {
      kind: 'mismatch',
      why: `${r.pdu.length - 2} data bytes (byte count ${r.pdu[1]}), ${want} asked`,
    };
  }
  const data = r.pdu.subarray(2);
  const values =
    frame.function <= 2
      ? Array.from({ length: frame.count }, (_, i) => (data[i >> 3]! >> (i & 7)) & 1)
      : Array.from({ length: frame.count }, (_, i) => data.readUInt16BE(2 * i));
  return { kind: 'data', values };
}

/** Length of an RTU reply frame starting at `i` as its header announces it; undefined if unknown yet. */
function rtuLengthAt(buf: Buffer, i: number): number | undefined {
  const fn = buf[i + 1];
  if (fn === undefined) return undefined;
  if (fn & 0x80) return 5;
  if (fn === 5 || fn === 6 || fn === 16) return 3 + WRITE_REPLY_PDU;
  if (fn < 1 || fn > 4) return 0;
  const n = buf[i + 2];
  return n === undefined ? undefined : 5 + n;
}

export interface RtuScan {
  /** Complete frames with a good CRC, in order. */
  frames: Reply[];
  /** Bytes not yet part of a frame (an incomplete frame, or noise). */
  rest: Buffer;
  /** Bytes skipped as noise before a good frame. */
  skipped: number;
}

/**
 * Finds RTU reply frames in received bytes. A reply's length follows from its header, so a frame
 * is taken where a complete frame of that length has a good CRC; bytes before it are noise (the
 * rest of a garbled reply, line noise). Nothing is taken on a CRC that does not check.
 */
export function scanRtu(buf: Buffer): RtuScan {
  const frames: Reply[] = [];
  let skipped = 0;
  let start = 0;
  outer: while (start < buf.length) {
    for (let i = start; i + 5 <= buf.length; i++) {
      const len = rtuLengthAt(buf, i);
      if (!len || i + len > buf.length) continue;
      const f = buf.subarray(i, i + len);
      if (!crcOk(f)) continue;
      frames.push({ unitId: f[0]!, pdu: Buffer.from(f.subarray(1, len - 2)) });
      skipped += i - start;
      start = i + len;
      continue outer;
    }
    break;
  }
  return { frames, rest: buf.subarray(start), skipped };
}

/**
 * Whether `buf` holds a complete frame that looks like the reply to `frame` (its unit id,
 * function and length) but fails its CRC: a reply damaged on the wire.
 */
export function damagedReplyIn(buf: Buffer, frame: Frame): boolean {
  for (let i = 0; i + 5 <= buf.length; i++) {
    if (buf[i] !== frame.unitId || ((buf[i + 1] ?? 0) & 0x7f) !== frame.function) continue;
    const exception = (buf[i + 1]! & 0x80) !== 0;
    if (isWrite(frame)) {
      const len = exception ? 5 : 3 + WRITE_REPLY_PDU;
      if (i + len <= buf.length && !crcOk(buf.subarray(i, i + len))) return true;
      continue;
    }
    const len = exception ? 5 : 5 + replyByteCount(frame.function, frame.count);
    if (!exception && buf[i + 2] !== len - 5) continue;
    if (i + len <= buf.length && !crcOk(buf.subarray(i, i + len))) return true;
  }
  return false;
}

export type MbapScan = { frames: Reply[]; rest: Buffer } | { desync: string };

/** Splits received bytes into MBAP frames; a header that cannot be Modbus means the stream is lost. */
export function scanMbap(buf: Buffer): MbapScan {
  const frames: Reply[] = [];
  let at = 0;
  while (buf.length - at >= 7) {
    const protocol = buf.readUInt16BE(at + 2);
    const len = buf.readUInt16BE(at + 4);
    if (protocol !== 0 || len < 2 || len > 254) {
      return { desync: `MBAP header with protocol ${protocol}, length ${len}` };
    }
    if (buf.length - at < 6 + len) break;
    frames.push({
      tid: buf.readUInt16BE(at),
      unitId: buf[at + 6]!,
      pdu: Buffer.from(buf.subarray(at + 7, at + 6 + len)),
    });
    at += 6 + len;
  }
  return { frames, rest: buf.subarray(at) };
}
