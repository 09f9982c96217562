import { describe, expect, it } from 'vitest';
import { crc16 } from '../../../gateway/src/acquisition/transport/frames.js';
import { rtuReplyLength } from '../../../gateway/src/scan/prober.js';
import { parseList } from '../../../gateway/src/scan/scan.js';

const withCrc = (bytes: number[]) => {
  const crc = crc16(Uint8Array.from(bytes));
  return Buffer.from([...bytes, crc & 0xff, crc >> 8]);
};

describe('scan framing and options', () => {
  it('finds the length of an FC 43 / MEI 14 reply from its objects, and waits while it is incomplete', () => {
    // unit 3: 2B 0E code 1, conformity 81, no more, next 0, 2 objects: 0 "AC", 1 "P1"
    const frame = withCrc([3, 0x2b, 0x0e, 1, 0x81, 0, 0, 2, 0, 2, 0x41, 0x43, 1, 2, 0x50, 0x31]);
    expect(rtuReplyLength(frame, 0)).toBe(frame.length);
    expect(rtuReplyLength(frame.subarray(0, 11), 0)).toBeUndefined();
    expect(rtuReplyLength(withCrc([3, 0xab, 1]), 0)).toBe(5);
    expect(rtuReplyLength(withCrc([3, 3, 2, 0, 7]), 0)).toBe(7);
    expect(rtuReplyLength(Buffer.from([3, 0x10, 0, 0]), 0)).toBe(0);
  });

  it('reads unit-id and baud lists with ranges, and names a bad entry', () => {
    expect(parseList('1-3,7, 12', 0, 255, '--units')).toEqual([1, 2, 3, 7, 12]);
    expect(() => parseList('1-300', 0, 255, '--units')).toThrow(/--units: "1-300"/);
    expect(() => parseList('5-2', 0, 255, '--units')).toThrow();
  });
});
