/**
 * Strict building: a packet Lantian sends follows the standard exactly, or is refused with
 * HJ212_BUILD naming the field. (Parsing is lenient, see parse.ts: what platforms send varies.)
 */
import { LantianError } from '../../core/errors.js';
import { crcText, type CrcVariant } from './crc.js';
import { editionOf, isSplit, type CpItem, type Packet } from './packet.js';
import { encryptArea } from './sm4.js';

/** Largest data segment the standard allows, in UTF-8 bytes. */
export const MAX_SEGMENT_BYTES = 1024;

export interface BuildOptions {
  /** Default `hj212`. */
  crc?: CrcVariant;
  /** SM4 key: data areas of the commands `encrypts` selects are sent encrypted. */
  sm4Key?: Buffer;
  /** Which commands are encrypted; default HJ 212-2025 §6.4.4 (2000-2999, 1014, 3020). */
  encrypts?: (cn: string) => boolean;
  /**
   * What the length field of an encrypted packet counts: `plain` (the A.2 examples, default)
   * or `wire` (the transmitted segment). The CRC is always over the plain segment (A.2).
   */
  encryptedLength?: 'plain' | 'wire';
}

export const defaultEncrypts = (cn: string): boolean =>
  (cn >= '2000' && cn <= '2999') || cn === '1014' || cn === '3020';

function bad(field: string, why: string, value: unknown): LantianError {
  return new LantianError('HJ212_BUILD', `${field}: ${why} (got ${JSON.stringify(value)})`, {
    context: { field, value },
  });
}

const NAME = /^[A-Za-z0-9-]+$/;
// Separators and CR/LF would change the packet's structure; UTF-8 text (log info) is allowed.
const VALUE = /^[^;,=&\r\n#]*$/;

function check(field: string, value: string, re: RegExp, why: string): void {
  if (!re.test(value)) throw bad(field, why, value);
}

export function cpText(cp: readonly CpItem[]): string {
  return cp
    .map((item, i) => {
      if (item.length === 0) throw bad(`CP item ${i + 1}`, 'an item has at least one field', item);
      return item
        .map((f) => {
          check(`CP item ${i + 1}`, f.name, NAME, 'field names are letters, digits and -');
          check(`CP ${f.name}`, f.value, VALUE, 'values hold no ; , = & # or line breaks');
          return `${f.name}=${f.value}`;
        })
        .join(',');
    })
    .join(';');
}

/** The data segment of a packet, checked field by field; `area` replaces the CP text if given. */
export function segmentText(p: Packet, area?: string): string {
  check('QN', p.qn, /^\d{17}$/, '17 digits YYYYMMDDhhmmsszzz');
  check('ST', p.st, /^[0-9A-Z]{2}$/, 'two digits or capitals');
  check('CN', p.cn, /^\d{4}$/, 'four digits');
  check('PW', p.pw, /^[\x21-\x7e]{0,32}$/, 'printable ASCII without spaces');
  check('PW', p.pw, VALUE, 'no separators');
  check('MN', p.mn, /^[0-9A-Za-z-]{0,24}$/, 'at most 24 letters, digits or -');
  if (!Number.isInteger(p.flag) || p.flag < 0 || p.flag > 255) throw bad('Flag', 'an integer 0..255', p.flag);
  const numbered = p.pnum !== undefined || p.pno !== undefined;
  if (numbered !== isSplit(p.flag)) throw bad('Flag', 'the D bit is set exactly when PNUM/PNO are', p.flag);
  let head = `QN=${p.qn};ST=${p.st};CN=${p.cn};PW=${p.pw};MN=${p.mn};Flag=${p.flag};`;
  if (numbered) {
    const { pnum, pno } = p;
    if (pnum === undefined || !Number.isInteger(pnum) || pnum < 1 || pnum > 9999)
      throw bad('PNUM', 'an integer 1..9999', pnum);
    if (pno === undefined || !Number.isInteger(pno) || pno < 1 || pno > pnum)
      throw bad('PNO', 'an integer 1..PNUM', pno);
    head += `PNUM=${pnum};PNO=${pno};`;
  }
  if (p.rf) {
    if (editionOf(p.flag) !== 2025) throw bad('RF', 'the re-send marker exists only in HJ 212-2025', p.flag);
    head += 'RF=1;';
  }
  return `${head}CP=&&${area ?? cpText(p.cp)}&&`;
}

export function segmentBytes(p: Packet): number {
  return Buffer.byteLength(segmentText(p), 'utf8');
}

function frameOf(lengthBytes: number, segment: string, crc: string): string {
  if (lengthBytes > 9999) throw bad('length', 'at most 9999', lengthBytes);
  return `##${String(lengthBytes).padStart(4, '0')}${segment}${crc}\r\n`;
}

/** The whole frame, `##` to CRLF. Refuses a data segment over 1024 bytes: split it first. */
export function buildFrame(p: Packet, o: BuildOptions = {}): string {
  const plain = segmentText(p);
  const bytes = Buffer.from(plain, 'utf8');
  if (bytes.length > MAX_SEGMENT_BYTES) {
    throw new LantianError(
      'HJ212_BUILD',
      `the data segment is ${bytes.length} bytes, more than ${MAX_SEGMENT_BYTES}: split it`,
      { context: { field: 'CP', bytes: bytes.length } },
    );
  }
  const crc = crcText(o.crc ?? 'hj212', bytes);
  if (o.sm4Key && (o.encrypts ?? defaultEncrypts)(p.cn)) {
    const wire = segmentText(p, encryptArea(cpText(p.cp), o.sm4Key));
    const length = o.encryptedLength === 'wire' ? Buffer.byteLength(wire, 'utf8') : bytes.length;
    return frameOf(length, wire, crc);
  }
  return frameOf(bytes.length, plain, crc);
}
