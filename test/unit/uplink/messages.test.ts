import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import { topics, type DataBatch } from '../../../gateway/src/uplink/mqtt/contract.js';
import { toMessages } from '../../../gateway/src/uplink/mqtt/messages.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';

const t = topics('lantian/v1/gw');

function readings(n: number): LogRecord[] {
  return syntheticBatch(0, n).map((r, i) => ({
    type: 'reading' as const,
    seq: i + 1,
    ...r,
    raw: [0x4213, 0x3333],
    quality: ['device_status' as const],
  }));
}

describe('data messages and the maximum message size', () => {
  it('splits a batch that would exceed the limit, losing nothing and keeping seq order', () => {
    const records = readings(1000);
    const whole = toMessages(records, 'live', 'gw', t, true);
    expect(whole).toHaveLength(1);
    const limit = 8 * 1024;
    expect(Buffer.byteLength(whole[0]!.payload)).toBeGreaterThan(limit);

    const parts = toMessages(records, 'live', 'gw', t, true, limit);
    expect(parts.length).toBeGreaterThan(1);
    const batches = parts.map((m) => JSON.parse(m.payload) as DataBatch);
    for (const m of parts) expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(limit);
    const seqs = batches.flatMap((b) => b.readings.map((r) => r.seq));
    expect(seqs).toEqual(records.map((r) => r.seq));
    for (const b of batches)
      expect([b.first, b.last, b.count]).toEqual([
        b.readings[0]!.seq,
        b.readings.at(-1)!.seq,
        b.readings.length,
      ]);
    // Halving keeps the parts near the limit, not a message per reading.
    expect(parts.length).toBeLessThanOrEqual(Math.ceil((2 * Buffer.byteLength(whole[0]!.payload)) / limit));
  });

  it('sends a single record larger than the limit alone rather than drop or cut it', () => {
    const parts = toMessages(readings(3), 'live', 'gw', t, true, 1);
    expect(parts.map((m) => (JSON.parse(m.payload) as DataBatch).count)).toEqual([1, 1, 1]);
  });
});
