/** The platform simulator's own codec, held to the standards' examples (not to the gateway's codec). */
import { describe, expect, it } from 'vitest';
import { simCrc, simFrame, simParse } from '../../../hardware-sim/src/hj212/wire.js';
import { APPENDIX_A_2017, WORKED } from '../../fixtures/hj212/packets.js';

describe('the platform simulator codec', () => {
  it('gives the Appendix A CRC 1C80, and 0759 under CRC-16/MODBUS', () => {
    const seg = Buffer.from(APPENDIX_A_2017.slice(6, -6));
    expect(simCrc('hj212', seg)).toBe('1C80');
    expect(simCrc('modbus', seg)).toBe('0759');
    expect(simCrc('modbus-swapped', seg)).toBe('5907');
  });

  for (const [name, frame] of Object.entries(WORKED)) {
    it(`checks the length and CRC of ${name}`, () => {
      const p = simParse(frame, 'hj212');
      expect(frame).toContain(`CN=${p.cn};`);
      const bad = frame.replace(/[0-9A-F]{4}\r\n$/, (c) => `${c[0] === '0' ? '1' : '0'}${c.slice(1)}`);
      expect(() => simParse(bad, 'hj212')).toThrow(/CRC/);
    });
  }

  it('rebuilds the 9014 answer of the worked example byte for byte', () => {
    const h = {
      qn: '20240601101000123',
      st: '91',
      cn: '9014',
      pw: '123456',
      mn: '010000A8900016F000169DC0',
      flag: 4,
    };
    expect(simFrame(h, '', 'hj212')).toBe(WORKED['data answer (9014)']);
  });

  it('seals and opens a data area as HJ 212-2025 A.2 shows (key of sixteen 0x30)', () => {
    const key = Buffer.from('0000000000000000');
    const plain = simParse(WORKED['2025 A.2 second example, plain']!, 'hj212');
    const h = { qn: plain.qn, st: plain.st, cn: plain.cn, pw: plain.pw, mn: plain.mn, flag: plain.flag };
    const sealed = simFrame(h, plain.cp, 'hj212', key);
    expect(sealed).toMatch(/^##0234.*CP=&&\{0xE4,0x3E,0x15,0x9A,.*0x0D,0x03,0xA4\}g=N&&B541\r\n$/);
    const opened = simParse(sealed, 'hj212', key);
    expect([opened.encrypted, opened.cp]).toEqual([true, plain.cp]);
    expect(opened.fields.get('a01014-Avg')).toBe('3.20');
  });
});
