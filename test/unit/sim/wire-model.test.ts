import { describe, expect, it } from 'vitest';
import {
  characterTimeMs,
  readRegistersSizes,
  silenceMs,
  theoreticalMaxRate,
  transactionWireTimeMs,
  type LineSettings,
} from '../../../hardware-sim/src/wire/model.js';

const line = (baud: number, parity: LineSettings['parity'] = 'none', stopBits: 1 | 2 = 1): LineSettings => ({
  baud,
  dataBits: 8,
  parity,
  stopBits,
});

describe('serial wire-time model', () => {
  it('takes 1.0417 ms per character and 3.6458 ms of silence at 9600 8N1', () => {
    expect(characterTimeMs(line(9600))).toBeCloseTo(1.0417, 4);
    expect(silenceMs(line(9600))).toBeCloseTo(3.6458, 4);
  });

  it('counts parity and a second stop bit as an eleventh bit', () => {
    expect(characterTimeMs(line(9600, 'even'))).toBeCloseTo(11 / 9.6, 6);
    expect(characterTimeMs(line(9600, 'none', 2))).toBeCloseTo(11 / 9.6, 6);
    expect(characterTimeMs({ baud: 9600, dataBits: 7, parity: 'even', stopBits: 1 })).toBeCloseTo(
      10 / 9.6,
      6,
    );
  });

  it('uses a fixed 1.75 ms silence above 19200 baud and 3.5 characters at 19200', () => {
    expect(silenceMs(line(38400))).toBe(1.75);
    expect(silenceMs(line(115200))).toBe(1.75);
    expect(silenceMs(line(19200))).toBeCloseTo(3.5 * (10 / 19.2), 9);
  });

  it('prices an FC03 read of N registers at (20 + 2N) characters plus turnaround', () => {
    const l = line(9600);
    for (const n of [1, 10, 125]) {
      const { reqBytes, respBytes } = readRegistersSizes(n);
      expect(reqBytes + respBytes).toBe(13 + 2 * n);
      expect(transactionWireTimeMs(reqBytes, respBytes, l, 0)).toBeCloseTo((20 + 2 * n) * (10 / 9.6), 9);
      expect(transactionWireTimeMs(reqBytes, respBytes, l, 25)).toBeCloseTo(
        (20 + 2 * n) * (10 / 9.6) + 25,
        9,
      );
    }
    // 10 registers at 9600 8N1: 40 characters = 41.667 ms.
    expect(transactionWireTimeMs(8, 25, l)).toBeCloseTo(41.6667, 3);
  });

  it('holds the bus for the request and one silence when nobody answers', () => {
    expect(transactionWireTimeMs(8, 0, line(9600), 50)).toBeCloseTo(11.5 * (10 / 9.6), 9);
  });

  it('gives the theoretical maximum rate of a mix as transactions over total wire time', () => {
    const l = line(9600);
    const one = transactionWireTimeMs(8, 25, l, 20);
    const other = transactionWireTimeMs(8, 9, l, 20);
    const rate = theoreticalMaxRate(
      [
        { reqBytes: 8, respBytes: 25, turnaroundMs: 20, count: 3 },
        { reqBytes: 8, respBytes: 9, turnaroundMs: 20, count: 1 },
      ],
      l,
    );
    expect(rate).toBeCloseTo((4 * 1000) / (3 * one + other), 9);
    expect(theoreticalMaxRate([], l)).toBe(0);
  });
});
