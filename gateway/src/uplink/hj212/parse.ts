/**
 * Lenient parsing: real platforms and devices send lower-case CRCs, no Flag, spaces, commas
 * for semicolons and stray separators (the standard's own examples do). What can be read is
 * read and noted in `warnings`; what cannot gives a coded error naming the field and offset.
 */
import { LantianError, type ErrorCode } from '../../core/errors.js';
import { CRC_VARIANTS, crcOf, type CrcVariant } from './crc.js';
import { MAX_SEGMENT_BYTES } from './build.js';
import type { CpItem, Packet } from './packet.js';
import { decryptArea, isEncryptedArea } from './sm4.js';

export interface ParseOptions {
  /** CRC variant expected; `any` accepts whichever matches and reports it. Default `hj212`. */
  crc?: CrcVariant | 'any';
  /** Key for SM4-encrypted data areas. */
  sm4Key?: Buffer;
}

export interface ParsedPacket {
  packet: Packet;
  crcVariant: CrcVariant;
  /** The data area came SM4-encrypted. */
  encrypted: boolean;
  /** The length field as sent. */
  length: number;
  /** The clear data segment. */
  segment: string;
  /** What was accepted although the standard says otherwise. */
  warnings: string[];
}

function fail(code: ErrorCode, message: string, context: Record<string, unknown>): LantianError {
  return new LantianError(code, message, { context });
}

const HEADER_NUMBERS = new Set(['Flag', 'PNUM', 'PNO']);

/** Parses one data segment (the text between the length field and the CRC). */
export function parseSegment(seg: string, warnings: string[] = []): Packet {
  const cpAt = seg.search(/CP\s*=\s*&&/);
  if (cpAt < 0) throw fail('HJ212_SEGMENT', 'the data segment has no CP=&&', { field: 'CP', offset: 0 });
  const open = seg.indexOf('&&', cpAt) + 2;
  const close = seg.lastIndexOf('&&');
  if (close < open) {
    throw fail('HJ212_SEGMENT', 'the CP data area is not closed by &&', { field: 'CP', offset: open });
  }
  if (seg.slice(close + 2).trim() !== '') {
    throw fail('HJ212_SEGMENT', 'text after the closing && of CP', { field: 'CP', offset: close + 2 });
  }
  const head = new Map<string, string>();
  let offset = 0;
  for (const part of seg.slice(0, cpAt).split(/([;,])/)) {
    const at = offset;
    offset += part.length;
    if (part === ';' || part.trim() === '') continue;
    if (part === ',') {
      warnings.push(`a comma separates header fields at offset ${at}`);
      continue;
    }
    const eq = part.indexOf('=');
    if (eq < 0)
      throw fail('HJ212_SEGMENT', `header field without =: ${JSON.stringify(part)}`, { offset: at });
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (HEADER_NUMBERS.has(name) && !/^\d+$/.test(value)) {
      throw fail('HJ212_SEGMENT', `${name} is not a number: ${JSON.stringify(value)}`, {
        field: name,
        offset: at,
      });
    }
    if (!['QN', 'ST', 'CN', 'PW', 'MN', 'Flag', 'PNUM', 'PNO', 'RF'].includes(name))
      warnings.push(`unknown header field ${name}`);
    head.set(name, value);
  }
  const cn = head.get('CN');
  if (cn === undefined || cn === '')
    throw fail('HJ212_SEGMENT', 'the data segment has no CN', { field: 'CN' });
  for (const f of ['QN', 'ST', 'PW', 'MN']) if (!head.has(f)) warnings.push(`${f} missing`);
  if (!head.has('Flag')) warnings.push('Flag missing: read as 0');
  const packet: Packet = {
    qn: head.get('QN') ?? '',
    st: head.get('ST') ?? '',
    cn,
    pw: head.get('PW') ?? '',
    mn: head.get('MN') ?? '',
    flag: Number(head.get('Flag') ?? 0),
    cp: parseCp(seg.slice(open, close), open, warnings),
  };
  if (head.has('PNUM')) packet.pnum = Number(head.get('PNUM'));
  if (head.has('PNO')) packet.pno = Number(head.get('PNO'));
  if (head.has('RF')) {
    packet.rf = head.get('RF') === '1';
    if (!packet.rf) warnings.push(`RF=${head.get('RF')} (only RF=1 is defined)`);
  }
  return packet;
}

/** The CP data area: items split on `;`, sub-fields on `,`; blanks and empty items skipped. */
export function parseCp(area: string, base = 0, warnings: string[] = []): CpItem[] {
  const items: CpItem[] = [];
  let offset = base;
  for (const itemText of area.split(';')) {
    const item: CpItem = [];
    let at = offset;
    for (const fieldText of itemText.split(',')) {
      if (fieldText.trim() !== '') {
        const eq = fieldText.indexOf('=');
        if (eq < 0) {
          throw fail('HJ212_SEGMENT', `CP field without =: ${JSON.stringify(fieldText.trim())}`, {
            field: 'CP',
            offset: at,
          });
        }
        const rawName = fieldText.slice(0, eq);
        const name = rawName.replace(/\s+/g, '');
        if (name !== rawName.trim()) warnings.push(`spaces inside the field name ${JSON.stringify(rawName)}`);
        if (name === '') throw fail('HJ212_SEGMENT', 'CP field without a name', { field: 'CP', offset: at });
        item.push({ name, value: fieldText.slice(eq + 1).trim() });
      }
      at += fieldText.length + 1;
    }
    if (item.length > 0) items.push(item);
    offset += itemText.length + 1;
  }
  return items;
}

/** Strips the line end a packet arrived with: CRLF, a bare LF, or the four characters `\r\n`. */
export function stripLineEnd(text: string): string {
  return text.replace(/(\r?\n|\\r\\n)+$/, '').replace(/\s+$/, '');
}

/** Parses one whole frame `##dddd<segment><CRC>` (line end optional). */
export function parseFrame(input: string | Uint8Array, o: ParseOptions = {}): ParsedPacket {
  const text = stripLineEnd(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  const warnings: string[] = [];
  if (!text.startsWith('##')) throw fail('HJ212_FRAME', 'a packet starts with ##', { offset: 0 });
  if (!/^\d{4}$/.test(text.slice(2, 6))) {
    throw fail('HJ212_FRAME', `the length field is not 4 digits: ${JSON.stringify(text.slice(2, 6))}`, {
      offset: 2,
    });
  }
  const length = Number(text.slice(2, 6));
  const crcAt = text.length - 4;
  const crcSent = text.slice(crcAt);
  if (crcAt < 6 || !/^[0-9A-Fa-f]{4}$/.test(crcSent)) {
    throw fail('HJ212_FRAME', `no 4-digit hex CRC before the line end: ${JSON.stringify(crcSent)}`, {
      offset: Math.max(crcAt, 6),
    });
  }
  if (crcSent !== crcSent.toUpperCase()) warnings.push('lower-case CRC');
  const wire = text.slice(6, crcAt);
  let segment = wire;
  const cpAt = wire.search(/CP\s*=\s*&&\{0x/);
  const encrypted = cpAt >= 0;
  if (encrypted) {
    const open = wire.indexOf('&&', cpAt) + 2;
    const close = wire.lastIndexOf('&&');
    if (close < open) throw fail('HJ212_SEGMENT', 'the CP data area is not closed by &&', { field: 'CP' });
    const area = wire.slice(open, close);
    if (isEncryptedArea(area))
      segment = wire.slice(0, open) + decryptArea(area, o.sm4Key) + wire.slice(close);
  }
  const plain = Buffer.from(segment, 'utf8');
  const wireBytes = Buffer.byteLength(wire, 'utf8');
  // Appendix A.2 writes the plain length on encrypted packets; some platforms write the sent one.
  if (plain.length !== length && !(encrypted && wireBytes === length)) {
    throw fail(
      'HJ212_LENGTH',
      `the length field says ${length} bytes, the data segment has ${plain.length}`,
      {
        offset: 2,
        length,
        actual: plain.length,
      },
    );
  }
  if (plain.length > MAX_SEGMENT_BYTES) {
    throw fail('HJ212_LENGTH', `the data segment has ${plain.length} bytes, more than ${MAX_SEGMENT_BYTES}`, {
      offset: 6,
      actual: plain.length,
    });
  }
  const found = parseInt(crcSent, 16);
  const variants = o.crc === undefined ? ['hj212' as const] : o.crc === 'any' ? CRC_VARIANTS : [o.crc];
  const texts = encrypted ? [plain, Buffer.from(wire, 'utf8')] : [plain];
  const crcVariant = variants.find((v) => texts.some((t) => crcOf(v, t) === found));
  if (crcVariant === undefined) {
    const expected = crcOf(variants[0], plain).toString(16).toUpperCase().padStart(4, '0');
    const other = CRC_VARIANTS.find((v) => crcOf(v, plain) === found);
    throw fail(
      'HJ212_CRC',
      `CRC ${crcSent} does not match the data segment (${variants[0]} gives ${expected})` +
        (other ? `; it is the ${other} CRC` : ''),
      { offset: crcAt, expected, found: crcSent, variant: variants[0], ...(other ? { matches: other } : {}) },
    );
  }
  const packet = parseSegment(segment, warnings);
  return { packet, crcVariant, encrypted, length, segment, warnings };
}
