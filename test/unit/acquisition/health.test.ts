import { describe, expect, it } from 'vitest';
import { SampleWindow } from '../../../gateway/src/acquisition/health.js';

describe('SampleWindow', () => {
  it('has no percentiles while empty', () => {
    const w = new SampleWindow();
    expect(w.count).toBe(0);
    expect(w.percentiles()).toBeUndefined();
    expect(w.bytes).toBe(0);
  });

  it('gives nearest-rank percentiles of what it holds, in any order of arrival', () => {
    const w = new SampleWindow();
    // 1..100 shuffled: p50 is the 50th value, p95 the 95th, p99 the 99th.
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    for (const v of values) w.add(v);
    expect(w.count).toBe(100);
    expect(w.percentiles()).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('sorts negative samples (early polls give negative jitter) numerically', () => {
    const w = new SampleWindow();
    for (const v of [-2.5, 10, -0.25, 3, 0]) w.add(v);
    expect(w.percentiles()).toEqual({ p50: 0, p95: 10, p99: 10, max: 10 });
  });

  it('rounds to 0.01 ms: float32 keeps a sample of up to a minute to that, an hour to 0.25 ms', () => {
    const w = new SampleWindow();
    w.add(12.34);
    expect(w.percentiles()!.p50).toBe(12.34);
    const minute = new SampleWindow();
    minute.add(59_999.99);
    expect(minute.percentiles()!.max).toBe(59_999.99);
    const hour = new SampleWindow();
    hour.add(3_599_999.37);
    expect(Math.abs(hour.percentiles()!.max - 3_599_999.37)).toBeLessThanOrEqual(0.25);
    const u = new SampleWindow();
    u.add(0.004);
    u.add(0.006);
    expect(u.percentiles()).toEqual({ p50: 0, p95: 0.01, p99: 0.01, max: 0.01 });
  });

  it('keeps only the last `size` samples: the oldest is overwritten first', () => {
    const w = new SampleWindow(4);
    for (const v of [100, 200, 300, 400]) w.add(v);
    expect(w.percentiles()!.max).toBe(400);
    w.add(1); // 100 goes
    expect(w.percentiles()).toEqual({ p50: 200, p95: 400, p99: 400, max: 400 });
    w.add(2); // 200 goes
    w.add(3); // 300 goes
    expect(w.percentiles()).toEqual({ p50: 2, p95: 400, p99: 400, max: 400 });
    w.add(4); // 400 goes
    expect(w.count).toBe(4);
    expect(w.percentiles()).toEqual({ p50: 2, p95: 4, p99: 4, max: 4 });
  });

  it('grows while filling and stops at its size: 2 KB for a full default window', () => {
    const w = new SampleWindow();
    w.add(1);
    expect(w.bytes).toBe(16 * 4);
    for (let i = 0; i < 100; i++) w.add(i);
    expect(w.bytes).toBe(128 * 4);
    for (let i = 0; i < 5000; i++) w.add(i);
    expect(w.count).toBe(512);
    expect(w.bytes).toBe(512 * 4);
    // The last 512 of 0..4999: 4488..4999.
    expect(w.percentiles()).toEqual({ p50: 4743, p95: 4974, p99: 4994, max: 4999 });
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new SampleWindow(0)).toThrow(/positive integer, got 0/);
    expect(() => new SampleWindow(2.5)).toThrow(RangeError);
  });
});
