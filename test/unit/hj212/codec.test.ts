import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildFrame,
  cpValue,
  crcText,
  editionOf,
  makeFlag,
  parseDataTime,
  formatDataTime,
  formatQn,
  parseFrame,
  sm4Key,
  splitPacket,
  joinParts,
  wantsAnswer,
  isSplit,
  type Packet,
} from '../../../gateway/src/uplink/hj212/index.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { APPENDIX_A_2017, MN, WORKED } from '../../fixtures/hj212/packets.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isLantianError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('HJ 212 CRC and framing', () => {
  it('gives the Appendix A example CRC 1C80 (the prose "1C08" is a typo) and differs from Modbus', () => {
    const seg = Buffer.from(APPENDIX_A_2017.slice(6, -6));
    expect(seg.length).toBe(101);
    expect(crcText('hj212', seg)).toBe('1C80');
    expect(crcText('modbus', seg)).toBe('0759');
    expect(crcText('modbus-swapped', seg)).toBe('5907');
  });

  it('parses the Appendix A example into its fields', () => {
    const { packet, crcVariant, warnings } = parseFrame(APPENDIX_A_2017);
    expect(packet).toEqual({
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      pw: '100000',
      mn: MN,
      flag: 5,
      cp: [[{ name: 'RtdInterval', value: '30' }]],
    });
    expect(crcVariant).toBe('hj212');
    expect(warnings).toEqual([]);
    expect(editionOf(packet.flag)).toBe(2017);
    expect(wantsAnswer(packet.flag)).toBe(true);
  });

  for (const [name, frame] of Object.entries(WORKED)) {
    it(`parses and rebuilds byte for byte: ${name}`, () => {
      const parsed = parseFrame(frame);
      expect(buildFrame(parsed.packet)).toBe(frame);
    });
  }

  it('reads sub-fields, split numbering, the 2025 edition and the re-send marker', () => {
    const part = parseFrame(WORKED['split part 2 of 2']!).packet;
    expect([part.pnum, part.pno, isSplit(part.flag)]).toEqual([2, 2, true]);
    expect(cpValue(part.cp, 'a21002-Avg')).toBe('38.6');
    const rf = parseFrame(WORKED['2025 back-filled minute data (RF=1)']!).packet;
    expect(rf.rf).toBe(true);
    expect(editionOf(rf.flag)).toBe(2025);
  });

  it('makes Flags 4-7 for 2017 and 8-11 for 2025', () => {
    expect([
      makeFlag(2017),
      makeFlag(2017, { answer: true }),
      makeFlag(2017, { split: true, answer: true }),
    ]).toEqual([4, 5, 7]);
    expect([
      makeFlag(2025),
      makeFlag(2025, { answer: true }),
      makeFlag(2025, { split: true, answer: true }),
    ]).toEqual([8, 9, 11]);
  });

  it('counts the length field in UTF-8 bytes, not characters', () => {
    const p: Packet = {
      qn: '20240601120000001',
      st: '31',
      cn: '3020',
      pw: '123456',
      mn: MN,
      flag: 4,
      cp: [[{ name: 'i21001-Info', value: '//数采仪重启//' }]],
    };
    const frame = buildFrame(p);
    const seg = frame.slice(6, -6);
    expect(Number(frame.slice(2, 6))).toBe(Buffer.byteLength(seg, 'utf8'));
    expect(Number(frame.slice(2, 6))).toBeGreaterThan(seg.length);
    expect(parseFrame(frame).packet).toEqual(p);
  });
});

describe('lenient parsing', () => {
  const seg = (s: string) =>
    `##${String(Buffer.byteLength(s)).padStart(4, '0')}${s}${crcText('hj212', Buffer.from(s))}`;

  it('accepts a lower-case CRC, a missing Flag, spaces, commas and stray separators, with warnings', () => {
    const lower = APPENDIX_A_2017.replace('1C80', '1c80');
    expect(parseFrame(lower).warnings).toContain('lower-case CRC');
    const s =
      'QN=20240601120000534,ST=32;CN=2061;PW=123456;MN=X;CP=&& a21026 -Rtd = 1.5 ,a21026-Flag=N;;BeginTime=20240601080000,EndTime=20240601100000;&&';
    const r = parseFrame(seg(s));
    expect(r.packet.flag).toBe(0);
    expect(r.packet.cp).toEqual([
      [
        { name: 'a21026-Rtd', value: '1.5' },
        { name: 'a21026-Flag', value: 'N' },
      ],
      [
        { name: 'BeginTime', value: '20240601080000' },
        { name: 'EndTime', value: '20240601100000' },
      ],
    ]);
    expect(r.warnings.join('|')).toMatch(/Flag missing/);
    expect(r.warnings.join('|')).toMatch(/comma/);
  });

  it('accepts the standard\'s "Flag=5CP=&&" and "CP=&& &&" typos', () => {
    const r = parseFrame(seg('QN=20240601120000534;ST=32;CN=2012;PW=123456;MN=X;Flag=5CP=&& &&'));
    expect([r.packet.flag, r.packet.cp]).toEqual([5, []]);
  });

  it('accepts the literal four characters \\r\\n as line end', () => {
    expect(parseFrame(APPENDIX_A_2017.replace('\r\n', '\\r\\n')).packet.cn).toBe('1062');
  });

  it('names what is wrong and where', () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ['#0101QN=1', 'HJ212_FRAME', { offset: 0 }],
      ['##01a1QN=1;CP=&&&&1C80', 'HJ212_FRAME', { offset: 2 }],
      [APPENDIX_A_2017.replace('1C80', '1C8'), 'HJ212_FRAME', {}],
      [APPENDIX_A_2017.replace('##0101', '##0102'), 'HJ212_LENGTH', { length: 102, actual: 101 }],
      [APPENDIX_A_2017.replace('1C80', '1C08'), 'HJ212_CRC', { expected: '1C80', found: '1C08' }],
      [seg('QN=1;ST=32;CN=1062;PW=1;MN=X;Flag=5;RtdInterval=30'), 'HJ212_SEGMENT', { field: 'CP' }],
      [seg('QN=1;ST=32;PW=1;MN=X;Flag=5;CP=&&&&'), 'HJ212_SEGMENT', { field: 'CN' }],
      [seg('QN=1;ST=32;CN=1062;Flag=x;CP=&&&&'), 'HJ212_SEGMENT', { field: 'Flag' }],
      [seg('QN=1;ST=32;CN=1062;CP=&&a=1;oops&&'), 'HJ212_SEGMENT', { field: 'CP', offset: 28 }],
      [seg('QN=1;ST=32;CN=1062;CP=&&a=1'), 'HJ212_SEGMENT', { field: 'CP' }],
    ];
    for (const [frame, code, context] of cases) {
      let err: unknown;
      try {
        parseFrame(frame);
      } catch (e) {
        err = e;
      }
      expect(isLantianError(err), frame).toBe(true);
      expect({ frame, code: (err as { code: string }).code }).toEqual({ frame, code });
      expect((err as { context: object }).context).toMatchObject(context);
    }
  });

  it('reports which CRC variant a packet carries', () => {
    const s = APPENDIX_A_2017.slice(6, -6);
    const modbus = `##0101${s}${crcText('modbus', Buffer.from(s))}`;
    expect(codeOf(() => parseFrame(modbus))).toBe('HJ212_CRC');
    expect(parseFrame(modbus, { crc: 'any' }).crcVariant).toBe('modbus');
    expect(parseFrame(modbus, { crc: 'modbus' }).crcVariant).toBe('modbus');
  });

  it('refuses a data segment over 1024 bytes', () => {
    const s = `QN=1;ST=32;CN=2011;CP=&&${'a'.repeat(1010)}=1&&`;
    expect(codeOf(() => parseFrame(seg(s).replace(/^##\d{4}/, '##9999')))).toBe('HJ212_LENGTH');
  });
});

describe('strict building', () => {
  const base: Packet = {
    qn: '20240601120000001',
    st: '31',
    cn: '2011',
    pw: '123456',
    mn: MN,
    flag: 5,
    cp: [],
  };
  it('refuses what the standard forbids, naming the field', () => {
    const cases: [Partial<Packet>, string][] = [
      [{ qn: '2024' }, 'QN'],
      [{ st: '3' }, 'ST'],
      [{ cn: '20a1' }, 'CN'],
      [{ mn: 'x'.repeat(25) }, 'MN'],
      [{ flag: 256 }, 'Flag'],
      [{ flag: 7 }, 'Flag'],
      [{ pnum: 2, pno: 1 }, 'Flag'],
      [{ flag: 7, pnum: 2, pno: 3 }, 'PNO'],
      [{ rf: true }, 'RF'],
      [{ cp: [[{ name: 'a;b', value: '1' }]] }, 'CP item 1'],
      [{ cp: [[{ name: 'a21026-Rtd', value: '1,2' }]] }, 'CP a21026-Rtd'],
      [{ cp: [[{ name: 'x', value: 'a'.repeat(1000) }]] }, 'CP'],
    ];
    for (const [change, field] of cases) {
      let err: unknown;
      try {
        buildFrame({ ...base, ...change });
      } catch (e) {
        err = e;
      }
      expect({
        change,
        code: (err as { code?: string }).code,
        field: (err as { context?: { field?: string } }).context?.field,
      }).toEqual({
        change,
        code: 'HJ212_BUILD',
        field,
      });
    }
  });
});

describe('SM4 (HJ 212-2025 Appendix A.2)', () => {
  const key = sm4Key('0000000000000000');

  it('encrypts whole 16-byte blocks of the data area, keeps the tail clear, and keeps the plain length and CRC', () => {
    const plain = WORKED['2025 A.2 second example, plain']!;
    const enc = buildFrame(parseFrame(plain).packet, { sm4Key: key });
    expect(enc.startsWith('##0234QN=20240520210700000;')).toBe(true);
    expect(enc).toContain('CP=&&{0xE4,0x3E,0x15,0x9A,');
    expect(enc.endsWith('0x0D,0x03,0xA4}g=N&&B541\r\n')).toBe(true);
    expect((enc.match(/0x/g) ?? []).length).toBe(144);
    const back = parseFrame(enc, { sm4Key: key });
    expect(back.encrypted).toBe(true);
    expect(buildFrame(back.packet)).toBe(plain);
  });

  it('gives the A.2 first example: 208 cipher bytes and no clear tail', () => {
    const enc = buildFrame(parseFrame(WORKED['2025 A.2 minute data, plain']!).packet, { sm4Key: key });
    expect((enc.match(/0x/g) ?? []).length).toBe(208);
    expect(enc).toMatch(/CP=&&\{0xE4,0x3E,0x15,0x9A,.*,0x8B,0x41\}&&2200\r\n$/);
  });

  it('holds to the GB/T 32907 single-block vector', () => {
    const k = sm4Key('0123456789abcdeffedcba9876543210');
    const area = Buffer.from('0123456789abcdeffedcba9876543210', 'hex').toString('latin1');
    expect(area.length).toBe(16);
    // encryptArea wants ASCII; go through the cipher directly with the same primitive.
    const c = createCipheriv('sm4-ecb', k, null);
    c.setAutoPadding(false);
    expect(Buffer.concat([c.update(Buffer.from(area, 'latin1')), c.final()]).toString('hex')).toBe(
      '681edf34d206965e86b3e94f536e4246',
    );
  });

  it('without a key says the area is encrypted', () => {
    const enc = buildFrame(parseFrame(WORKED['2025 A.2 minute data, plain']!).packet, { sm4Key: key });
    expect(codeOf(() => parseFrame(enc))).toBe('HJ212_DECRYPT');
    expect(codeOf(() => parseFrame(enc, { sm4Key: sm4Key('1111111111111111') }))).not.toBeUndefined();
  });

  it('leaves commands outside the encrypted set in clear', () => {
    const p = parseFrame(WORKED['2025 heartbeat (9015)']!).packet;
    expect(buildFrame(p, { sm4Key: key })).toBe(WORKED['2025 heartbeat (9015)']);
  });
});

describe('splitting and times', () => {
  it('splits a long upload on item boundaries, DataTime in every part, one QN per part', () => {
    const items = Array.from({ length: 40 }, (_, i) => [
      { name: `a${String(21000 + i)}-Rtd`, value: '123.456' },
      { name: `a${String(21000 + i)}-Flag`, value: 'N' },
    ]);
    const p: Packet = {
      qn: '20240601120000001',
      st: '31',
      cn: '2011',
      pw: '123456',
      mn: MN,
      flag: makeFlag(2017, { answer: true }),
      cp: [[{ name: 'DataTime', value: '20240601120000' }], ...items],
    };
    let n = 1;
    const parts = splitPacket(p, () => `2024060112000000${++n}`);
    expect(parts.length).toBe(2);
    expect(new Set(parts.map((x) => x.qn)).size).toBe(2);
    for (const part of parts) {
      const frame = buildFrame(part);
      expect(Number(frame.slice(2, 6))).toBeLessThanOrEqual(1024);
      expect(part.flag).toBe(7);
      expect(cpValue(part.cp, 'DataTime')).toBe('20240601120000');
    }
    expect(joinParts([...parts].reverse())).toEqual(p);
    expect(joinParts(parts.slice(1))).toBeUndefined();
  });

  it('refuses an item too long for any part also when it follows items that fit', () => {
    const p: Packet = {
      qn: '20240601120000001',
      st: '31',
      cn: '2011',
      pw: '123456',
      mn: MN,
      flag: makeFlag(2017, { answer: true }),
      cp: [[{ name: 'a21026-Rtd', value: '1' }], [{ name: 'a21002-Info', value: 'x'.repeat(150) }]],
    };
    // The first item fits a 200-byte part; the second fits none, not even alone.
    expect(codeOf(() => splitPacket(p, () => '20240601120000002', 200))).toBe('HJ212_BUILD');
  });

  it('formats and parses local times (UTC+8 by default)', () => {
    const ms = Date.UTC(2024, 5, 1, 2, 10, 0, 123);
    expect(formatDataTime(ms, 'Asia/Shanghai')).toBe('20240601101000');
    expect(formatQn(ms, 'Asia/Shanghai')).toBe('20240601101000123');
    expect(parseDataTime('20240601101000', 'Asia/Shanghai')).toBe(ms - 123);
    expect(parseDataTime('20240601101000123', 'Asia/Shanghai')).toBe(ms);
    expect(parseDataTime('20240601021000', 'UTC')).toBe(ms - 123);
    expect(codeOf(() => parseDataTime('2024-06-01', 'UTC'))).toBe('HJ212_SEGMENT');
  });
});
