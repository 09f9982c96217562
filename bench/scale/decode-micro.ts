/**
 * Microseconds per decoded point, in one process: float32 (both word orders), a scaled uint16
 * and an int32 in turn, two million decodes a round after a warm-up, three rounds. A closer look
 * at one part of the per-reading cost that bench:scale measures whole:
 *
 *   npx tsx bench/scale/decode-micro.ts
 *
 * Prints one line a round; writes nothing.
 */
import { decodePoint, type DecodablePoint } from '../../gateway/src/acquisition/decode.js';

const base = { function: 3, wordOrder: 'high-first', byteOrder: 'big', scale: 1, offset: 0 } as const;
const points: DecodablePoint[] = [
  { ...base, key: 'f32', type: 'f32', count: 2 },
  { ...base, key: 'f32-cdab', type: 'f32', count: 2, wordOrder: 'low-first' },
  { ...base, key: 'u16', type: 'u16', count: 1, scale: 0.1 },
  { ...base, key: 'i32', type: 'i32', count: 2 },
];
const words = [[0x4236, 0xe148], [0xe148, 0x4236], [1234], [0xffff, 0xfff0]];
const ROUND = 2_000_000;

function run(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += decodePoint(points[i & 3]!, words[i & 3]!) as number;
  return sum;
}

run(ROUND / 10);
for (let round = 1; round <= 3; round++) {
  const t = performance.now();
  run(ROUND);
  const us = ((performance.now() - t) * 1000) / ROUND;
  console.log(`round ${round}: ${us.toFixed(3)} µs per decode`);
}
