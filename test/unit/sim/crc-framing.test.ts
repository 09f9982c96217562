import { describe, expect, it } from 'vitest';
import { crc16modbus, crcValid, withCrc } from '../../../hardware-sim/src/modbus/crc.js';
import {
  MbapFramer,
  RtuRequestFramer,
  mbapFrame,
  rtuRequestLength,
} from '../../../hardware-sim/src/modbus/framing.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('CRC-16/MODBUS', () => {
  it('matches published frames from device manuals and vendor READMEs', () => {
    // devices.md: Bo Ling TSP read, SICK VISIC100SF request and reply, Saimosen SO2 read.
    for (const frame of [
      '01 03 00 00 00 02 C4 0B',
      '65 03 00 64 00 02 8D F0',
      '65 03 04 3F 48 2B 67 0C ED',
      '04 03 00 1E 00 02 A4 58',
    ]) {
      expect(crcValid(hex(frame)), frame).toBe(true);
    }
  });

  it('gives the check value of the CRC catalogue for "123456789"', () => {
    expect(crc16modbus(Buffer.from('123456789'))).toBe(0x4b37);
  });

  it('appends the CRC low byte first and rejects a frame with one bit flipped', () => {
    const f = withCrc(hex('01 03 00 00 00 02'));
    expect(f.toString('hex')).toBe('010300000002c40b');
    f[3]! ^= 0x01;
    expect(crcValid(f)).toBe(false);
  });
});

describe('RTU request framing', () => {
  const collect = (opts: Partial<{ idleMs: number; frameTimeoutMs: number }> = {}) => {
    const frames: string[] = [];
    const discarded: string[] = [];
    const framer = new RtuRequestFramer({
      idleMs: opts.idleMs ?? 5,
      frameTimeoutMs: opts.frameTimeoutMs ?? 50,
      onFrame: (f) => frames.push(f.toString('hex')),
      onDiscard: (b) => discarded.push(b.toString('hex')),
    });
    return { framer, frames, discarded };
  };

  it('knows request lengths from the function code', () => {
    expect(rtuRequestLength(hex('01 03'))).toBe(8);
    expect(rtuRequestLength(hex('01 10 00 00 00 02'))).toBeUndefined();
    expect(rtuRequestLength(hex('01 10 00 00 00 02 04'))).toBe(13);
    expect(rtuRequestLength(hex('01 2B 0E'))).toBe(7);
    expect(rtuRequestLength(hex('01 41'))).toBeNull();
  });

  it('reassembles a frame delivered one byte at a time and splits two frames in one chunk', () => {
    const { framer, frames } = collect();
    for (const b of hex('01 03 00 00 00 02 C4 0B')) framer.push(Buffer.from([b]));
    framer.push(Buffer.concat([hex('65 03 00 64 00 02 8D F0'), hex('04 03 00 1E 00 02 A4 58')]));
    expect(frames).toEqual(['010300000002c40b', '6503006400028df0', '0403001e0002a458']);
    framer.close();
  });

  it('skips line noise before a good frame and drops a frame with a bad CRC', () => {
    const { framer, frames, discarded } = collect();
    framer.push(Buffer.concat([hex('FF 00 13'), hex('01 03 00 00 00 02 C4 0B')]));
    framer.push(hex('01 03 00 00 00 02 C4 0C'));
    expect(frames).toEqual(['010300000002c40b']);
    expect(discarded.join('')).toContain('ff0013');
    framer.close();
  });

  it('ends a frame of unknown length at the silence and keeps it when its CRC is good', async () => {
    const { framer, frames } = collect({ idleMs: 10 });
    const unknown = withCrc(hex('01 41 00 01'));
    framer.push(unknown);
    expect(frames).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(frames).toEqual([unknown.toString('hex')]);
    framer.close();
  });

  it('throws away an incomplete frame after the frame timeout', async () => {
    const { framer, frames, discarded } = collect({ frameTimeoutMs: 20 });
    framer.push(hex('01 03 00 00'));
    await new Promise((r) => setTimeout(r, 60));
    framer.push(hex('01 03 00 00 00 02 C4 0B'));
    expect(discarded).toEqual(['01030000']);
    expect(frames).toEqual(['010300000002c40b']);
    framer.close();
  });
});

describe('MBAP framing', () => {
  it('splits a stream into frames and refuses a length no PDU can have', () => {
    const got: string[] = [];
    const framer = new MbapFramer((f) => got.push(`${f.transactionId}/${f.unitId}/${f.pdu.toString('hex')}`));
    const a = mbapFrame(7, 1, hex('03 00 0A 00 02'));
    const b = mbapFrame(8, 2, hex('04 00 00 00 01'));
    const both = Buffer.concat([a, b]);
    expect(framer.push(both.subarray(0, 5))).toBe(true);
    expect(framer.push(both.subarray(5))).toBe(true);
    expect(got).toEqual(['7/1/03000a0002', '8/2/0400000001']);
    expect(framer.push(hex('00 01 00 00 01 00 01 03'))).toBe(false);
  });

  it('discards frames of another protocol id', () => {
    const got: number[] = [];
    const framer = new MbapFramer((f) => got.push(f.transactionId));
    const other = mbapFrame(1, 1, hex('03 00 00 00 01'));
    other.writeUInt16BE(1, 2);
    framer.push(Buffer.concat([other, mbapFrame(2, 1, hex('03 00 00 00 01'))]));
    expect(got).toEqual([2]);
  });
});
