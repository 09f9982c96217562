/**
 * Every due slot of every device leaves a record: under CRC errors and unanswered requests from
 * the simulator, timeouts and retries push polls past their next slots, and each slot that was
 * not polled is recorded as an overrun slot (on the next reading), so the records match the time
 * that passed.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missedTimes, type ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import type { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES, benchLine } from '../../fixtures/acquisition/sim.js';

const bench = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const UNITS = [1, 2, 3];
const PERIOD_MS = 300;
const RUN_MS = 8000;

let sim: Simulator | undefined;
let engine: Acquisition | undefined;

afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

describe('slots under faults', () => {
  it('accounts for every due slot: a reading, or an overrun slot on the next reading', async () => {
    const readings: ReadingDraft[] = [];
    ({ sim, engine } = await benchLine(
      'rtu-tcp',
      UNITS,
      bench,
      // Never backed off here: every slot is a poll or an overrun.
      { periodMs: PERIOD_MS, timeoutMs: 200, retries: 1, backoff: { deadAfter: 1000 } },
      (d) => readings.push(...d),
    ));
    sim.control.inject({ kind: 'crc-error', bus: 'line', probability: 0.1 });
    sim.control.inject({ kind: 'no-answer', bus: 'line', probability: 0.05 });
    const started = Date.now();
    engine.start();
    await new Promise((r) => setTimeout(r, RUN_MS));
    await engine.stop();
    const elapsed = Date.now() - started;

    let overruns = 0;
    for (const unit of UNITS) {
      const device = `d${unit}`;
      const h = engine.health().devices.find((d) => d.device === device)!;
      const slots = readings.filter((r) => r.device === device && r.point === 'so2');
      overruns += h.overruns;
      // Every slot is accounted for, as the health counters count them: a so2 reading per poll
      // or skipped poll, and the overrun slots on the reading of the poll they merged into (or,
      // at the stop, on a B reading of their own).
      const times = slots.flatMap((r) => [...(r.missed ? missedTimes(r.missed) : []), r.ts]);
      const missed = slots.reduce((n, r) => n + (r.missed?.slots ?? 0), 0);
      const alone = slots.filter((r) => r.quality?.[0] === 'overrun').length;
      expect(alone, device).toBeLessThanOrEqual(1);
      expect(missed + alone, device).toBe(h.overruns);
      expect(times.length, device).toBe(h.polls + h.skippedPolls + h.overruns);
      // And as many slots as the time between the first and the last holds (a poll cut by the
      // stop, and the slots it ran over, are discarded with it).
      const span = times.at(-1)! - times[0]!;
      expect(times.length, device).toBeGreaterThanOrEqual(Math.floor(span / PERIOD_MS));
      expect(span, device).toBeGreaterThan(elapsed - 2000);
      // Distinct slots: a missed slot carries its own due time.
      expect(new Set(times).size, device).toBe(times.length);
    }
    // The faults did push polls past their slots, or the test proved nothing.
    expect(overruns).toBeGreaterThan(0);
  }, 30_000);
});
