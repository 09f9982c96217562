import { describe, expect, it } from 'vitest';
import { healthReportMs } from '../../../gateway/src/acquisition/threaded.js';

describe('healthReportMs', () => {
  it('reports every second up to a thousand devices', () => {
    expect(healthReportMs(0)).toBe(1000);
    expect(healthReportMs(1)).toBe(1000);
    expect(healthReportMs(1000)).toBe(1000);
  });

  it('beyond that waits a millisecond per device, so a report costs the same per second', () => {
    expect(healthReportMs(1001)).toBe(1001);
    expect(healthReportMs(3000)).toBe(3000);
    // Devices reported per second stay at a thousand.
    for (const n of [1200, 3000, 10_000]) expect((n / healthReportMs(n)) * 1000).toBe(1000);
  });
});
