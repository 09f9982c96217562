/**
 * A device that answers later than the timeout on a shared RTU line (the simulator's late-answer
 * fault on a pty): its late replies are recognised and discarded, never taken as the answer to a
 * retry or to a neighbour's request; it is backed off like a dead device; the neighbours keep
 * their rate and their values.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import type { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES, benchLine } from '../../fixtures/acquisition/sim.js';
import { summariseHealth } from '../../../gateway/src/gateway.js';

const bench = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const expected = bench.examples[0]!.values;
const UNITS = [1, 2, 3];
const PERIOD_MS = 500;
const TIMEOUT_MS = 300;
const LATE_MS = 450;
const WINDOW_MS = 8000;

let sim: Simulator;
let engine: Acquisition;
const readings: ReadingDraft[] = [];

beforeAll(async () => {
  ({ sim, engine } = await benchLine(
    'pty',
    UNITS,
    bench,
    { periodMs: PERIOD_MS, timeoutMs: TIMEOUT_MS, retries: 1, backoff: { initialMs: 1000, maxMs: 4000 } },
    (d) => readings.push(...d),
  ));
  engine.start();
}, 30_000);

afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await sleep(20);
}
const health = (device: string) => engine.health().devices.find((d) => d.device === device)!;

describe('a late-answering device on a shared RTU line', () => {
  it('is never read from a late reply, is backed off, and leaves its neighbours their rate', async () => {
    await sleep(1500);
    expect(readings.filter((r) => r.device === 'd2' && r.flag === 'N').length).toBeGreaterThan(0);
    sim.control.inject({ kind: 'late-answer', device: 'd2', delayMs: LATE_MS });
    const injectedAt = Date.now();
    const from = readings.length;
    // Two polls without an answer in time, then the back-off: the steady state starts there.
    await until(() => health('d2').state === 'backoff', 10_000);
    const before = { d1: health('d1').polls, d3: health('d3').polls };
    const steadyFrom = readings.length;
    await sleep(WINDOW_MS);
    sim.control.clear();
    const window = readings.slice(from).filter((r) => r.ts > injectedAt + 50);

    // Every reply of d2 came too late: none may have become a value. A poll already answered when
    // the fault came (its readings time-stamped later on a busy machine) is the only exception:
    // at most one poll's readings (10 points) before the first B.
    const d2 = window.filter((r) => r.device === 'd2');
    const firstB = d2.findIndex((r) => r.flag === 'B');
    expect(firstB).toBeGreaterThanOrEqual(0);
    expect(firstB).toBeLessThanOrEqual(bench.points.length);
    const late = d2.slice(firstB);
    expect(late.filter((r) => r.flag !== 'B')).toEqual([]);
    const h = health('d2');
    expect(h.lateReplies).toBeGreaterThan(0);
    // …and the platform's health message carries the count.
    expect(summariseHealth(engine.health()).devices.find((d) => d.device === 'd2')?.lateReplies).toBe(
      h.lateReplies,
    );
    expect(h.skippedPolls).toBeGreaterThan(0);
    expect(late.some((r) => r.quality?.[0] === 'backoff')).toBe(true);

    // Once it is backed off, the neighbours keep their rate: each probe of the late device holds
    // the simulated line until its late reply, which may push a neighbour's poll past a slot
    // (recorded as overrun), but never a timeout, a failed read or a wrong value.
    for (const d of ['d1', 'd3'] as const) {
      const polls = health(d).polls - before[d];
      expect(polls, `${d} polls`).toBeGreaterThanOrEqual(0.8 * (WINDOW_MS / PERIOD_MS));
      const mine = readings.slice(steadyFrom).filter((r) => r.device === d);
      expect(
        mine.filter((r) => r.flag === 'B' && r.quality?.[0] !== 'overrun'),
        `${d} B readings`,
      ).toEqual([]);
      for (const r of mine.filter((x) => x.flag !== 'B'))
        expect(r.value, `${d}/${r.point}`).toBe(expected[r.point]);
    }
  }, 30_000);
});
