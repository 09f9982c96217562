/** Readings for the benchmarks, as a CEMS site logs them. */
import type { ReadingDraft } from '../gateway/src/core/reading.js';

const GAS_POINTS = ['so2', 'nox', 'o2', 'co', 'flow', 'temp'] as const;

/** Readings as a CEMS site logs them: two register words each, a reason on the flagged ones. */
export function realisticBatch(start: number, count: number, ts?: number): ReadingDraft[] {
  const out: ReadingDraft[] = [];
  for (let i = start; i < start + count; i++) {
    const value = Math.round((20 + (i % 500) / 7) * 1000) / 1000;
    const f32 = Buffer.alloc(4);
    f32.writeFloatBE(value);
    const r: ReadingDraft = {
      ts: ts ?? Date.UTC(2026, 0, 1) + Math.floor(i / 6) * 1000,
      device: `stack${1 + (Math.floor(i / 6) % 3)}-gas`,
      point: GAS_POINTS[i % GAS_POINTS.length]!,
      value,
      flag: 'N',
      raw: [f32.readUInt16BE(0), f32.readUInt16BE(2)],
    };
    // One reading in twenty is flagged, with its reason, as calibrations and faults do.
    if (i % 20 === 7) Object.assign(r, { flag: 'C', quality: ['device_status'] });
    out.push(r);
  }
  return out;
}
