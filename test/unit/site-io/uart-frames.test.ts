/** UART frames from the datasheets: good ones decode, damaged ones never become values. */
import { describe, expect, it } from 'vitest';
import { Pms5003Parser, Sds011Parser } from '../../../gateway/src/acquisition/uart/frames.js';

/** PMS5003 frame built by hand: 42 4D 00 1C, 13 words, sum of the 30 bytes before the check code. */
function pms(words: number[]): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x42;
  b[1] = 0x4d;
  b.writeUInt16BE(28, 2);
  words.forEach((w, i) => b.writeUInt16BE(w, 4 + 2 * i));
  let sum = 0;
  for (let i = 0; i < 30; i++) sum += b[i]!;
  b.writeUInt16BE(sum, 30);
  return b;
}

// SDS011 protocol V1.3 layout: PM2.5 = 0x00D4 / 10 = 21.2, PM10 = 0x01C4 / 10 = 45.2.
const SDS = Buffer.from('aac0d400c401a1609aab', 'hex');

describe('UART PM frames', () => {
  it('decodes a PMS5003 frame: atmospheric PM and counts, split across chunks', () => {
    const f = pms([11, 22, 33, 10, 20, 30, 3000, 900, 200, 20, 4, 1, 0]);
    const p = new Pms5003Parser();
    expect(p.push(f.subarray(0, 7))).toEqual([]);
    expect(p.push(f.subarray(7))).toEqual([
      {
        kind: 'ok',
        values: {
          pm1_0: 10,
          pm2_5: 20,
          pm10: 30,
          n0_3: 3000,
          n0_5: 900,
          n1_0: 200,
          n2_5: 20,
          n5_0: 4,
          n10: 1,
        },
      },
    ]);
  });

  it('a PMS5003 checksum error and a frame cut short by the next header are flagged, then it resynchronises', () => {
    const good = pms([0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0]);
    const bad = Buffer.from(good);
    bad[31] = bad[31]! ^ 1;
    const p = new Pms5003Parser();
    const results = p.push(Buffer.concat([Buffer.from([0x00, 0x13]), bad, good.subarray(0, 12), good]));
    expect(results.map((r) => r.kind)).toEqual(['checksum', 'truncated', 'ok']);
  });

  it('a partial frame left when the line goes quiet is truncated', () => {
    const p = new Sds011Parser();
    expect(p.push(SDS.subarray(0, 6))).toEqual([]);
    expect(p.flush()).toEqual([{ kind: 'truncated' }]);
    expect(p.flush()).toEqual([]);
  });

  it('decodes the SDS011 datasheet example and flags a wrong check byte', () => {
    const p = new Sds011Parser();
    expect(p.push(SDS)).toEqual([{ kind: 'ok', values: { pm2_5: 21.2, pm10: 45.2 } }]);
    const bad = Buffer.from(SDS);
    bad[8] = bad[8]! ^ 0xff;
    expect(p.push(bad)).toEqual([{ kind: 'checksum' }]);
  });
});
