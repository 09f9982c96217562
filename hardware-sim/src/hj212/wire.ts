/**
 * The platform simulator's own HJ 212 wire code. It shares nothing with the gateway's codec
 * (gateway/src/uplink/hj212): it is a witness, so a bug there cannot be mirrored here. The CRC
 * is table-driven (the gateway's is bitwise), frames are taken apart with one regular
 * expression, and the CP area is kept as text plus a flat name -> value map.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type SimCrc = 'hj212' | 'modbus' | 'modbus-swapped';

// T[x]: eight reflected shifts with 0xA001 of the byte x. HJ 212 Appendix A then reads
// reg = T[(reg >> 8) ^ b]; CRC-16/MODBUS reads reg = (reg >> 8) ^ T[(reg ^ b) & 0xFF].
const TABLE = Array.from({ length: 256 }, (_, x) => {
  let v = x;
  for (let k = 0; k < 8; k++) v = v & 1 ? (v >>> 1) ^ 0xa001 : v >>> 1;
  return v;
});

export function simCrc(kind: SimCrc, data: Buffer): string {
  let reg = 0xffff;
  if (kind === 'hj212') {
    for (const b of data) reg = TABLE[(reg >>> 8) ^ b]!;
  } else {
    for (const b of data) reg = (reg >>> 8) ^ TABLE[(reg ^ b) & 0xff]!;
    if (kind === 'modbus-swapped') reg = ((reg & 0xff) << 8) | (reg >>> 8);
  }
  return reg.toString(16).toUpperCase().padStart(4, '0');
}

export interface SimPacket {
  /** The frame as it came, CRLF included. */
  raw: string;
  qn: string;
  st: string;
  cn: string;
  pw: string;
  mn: string;
  flag: number;
  pnum?: number;
  pno?: number;
  rf: boolean;
  /** The clear data area between `CP=&&` and `&&`. */
  cp: string;
  /** Every CP sub-field by name (first occurrence wins). */
  fields: Map<string, string>;
  encrypted: boolean;
}

export class SimWireError extends Error {
  constructor(
    readonly reason: 'frame' | 'length' | 'crc' | 'decrypt',
    message: string,
  ) {
    super(message);
  }
}

const FRAME = /^##(\d{4})(QN=.*?|.*?)([0-9A-Fa-f]{4})\r\n$/s;

function sm4(key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv('sm4-ecb', key, null) : createDecipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** `{0xAA,…}tail` -> clear text, 16-byte blocks, SM4-ECB without padding (HJ 212-2025 A.2). */
function openArea(area: string, key: Buffer | undefined): string {
  const m = /^\{((?:0x[0-9A-Fa-f]{2},)*0x[0-9A-Fa-f]{2})\}(.*)$/s.exec(area);
  if (!m) throw new SimWireError('decrypt', 'malformed cipher list');
  if (!key) throw new SimWireError('decrypt', 'encrypted and no key');
  const bytes = Buffer.from(m[1]!.replace(/0x|,/g, ''), 'hex');
  if (bytes.length % 16) throw new SimWireError('decrypt', 'not whole blocks');
  return sm4(key, bytes, false).toString('latin1') + m[2]!;
}

export function sealArea(area: string, key: Buffer): string {
  const n = area.length - (area.length % 16);
  if (n === 0) return area;
  const hex = sm4(key, Buffer.from(area.slice(0, n), 'latin1'), true)
    .toString('hex')
    .toUpperCase();
  return `{${hex
    .match(/../g)!
    .map((h) => `0x${h}`)
    .join(',')}}${area.slice(n)}`;
}

/** Parses one frame strictly: length in bytes, CRC as configured (over the clear segment). */
export function simParse(raw: string, crc: SimCrc, key?: Buffer): SimPacket {
  const m = FRAME.exec(raw);
  if (!m) throw new SimWireError('frame', 'not ##dddd…CRC\\r\\n');
  let segment = m[2]!;
  const open = segment.indexOf('CP=&&');
  const close = segment.lastIndexOf('&&');
  if (open < 0 || close < open + 5) throw new SimWireError('frame', 'no CP=&&…&&');
  let cp = segment.slice(open + 5, close);
  const encrypted = cp.startsWith('{0x');
  const wireLength = Buffer.byteLength(segment);
  if (encrypted) {
    cp = openArea(cp, key);
    segment = segment.slice(0, open + 5) + cp + segment.slice(close);
  }
  const clear = Buffer.from(segment);
  const length = Number(m[1]);
  if (length !== clear.length && !(encrypted && length === wireLength))
    throw new SimWireError('length', `length ${length}, segment ${clear.length}`);
  if (simCrc(crc, clear) !== m[3]!.toUpperCase()) throw new SimWireError('crc', `CRC ${m[3]}`);
  const head = new Map(
    segment
      .slice(0, open)
      .split(';')
      .filter((s) => s.includes('='))
      .map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)] as [string, string]),
  );
  const fields = new Map<string, string>();
  for (const pair of cp.split(/[;,]/)) {
    const eq = pair.indexOf('=');
    if (eq > 0 && !fields.has(pair.slice(0, eq))) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const p: SimPacket = {
    raw,
    qn: head.get('QN') ?? '',
    st: head.get('ST') ?? '',
    cn: head.get('CN') ?? '',
    pw: head.get('PW') ?? '',
    mn: head.get('MN') ?? '',
    flag: Number(head.get('Flag') ?? 0),
    rf: head.get('RF') === '1',
    cp,
    fields,
    encrypted,
  };
  if (head.has('PNUM')) p.pnum = Number(head.get('PNUM'));
  if (head.has('PNO')) p.pno = Number(head.get('PNO'));
  return p;
}

/** A platform frame. `cp` is the clear data area; it is sealed when `key` is given. */
export function simFrame(
  h: { qn: string; st: string; cn: string; pw: string; mn: string; flag: number },
  cp: string,
  crc: SimCrc,
  key?: Buffer,
): string {
  const head = `QN=${h.qn};ST=${h.st};CN=${h.cn};PW=${h.pw};MN=${h.mn};Flag=${h.flag};CP=&&`;
  const clear = `${head}${cp}&&`;
  const bytes = Buffer.from(clear);
  const sent = key ? `${head}${sealArea(cp, key)}&&` : clear;
  return `##${String(bytes.length).padStart(4, '0')}${sent}${simCrc(crc, bytes)}\r\n`;
}
