import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missedTimes, type ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import { Admission } from '../../../gateway/src/acquisition/admission.js';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import { MemoryLine, cellsOf } from '../../fixtures/acquisition/memory-line.js';
import { VirtualClock } from '../../fixtures/acquisition/virtual-clock.js';

/** An admission whose loop load, live lag and time the test sets. */
function rig(o: { highWater?: number; lowWater?: number } = {}) {
  const state = { busy: 0, lag: undefined as number | undefined, now: 0 };
  const warnings: unknown[] = [];
  const admission = new Admission({
    liveLag: () => state.lag,
    highWater: o.highWater ?? 1000,
    lowWater: o.lowWater ?? 500,
    utilization: () => state.busy,
    monotonic: () => state.now,
    logger: { warn: (obj: object, msg: string) => warnings.push({ ...obj, msg }) } as never,
  });
  return { state, admission, warnings };
}

const settled = async (p: Promise<void> | undefined) => {
  let done = false;
  void p?.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('admission', () => {
  it('holds only while the loop is saturated and the live lane is past the high water; lets go at the low water', () => {
    const { state, admission } = rig();
    const signal = new AbortController().signal;
    state.busy = 0.95;
    state.lag = 1000;
    admission.sample();
    expect(admission.gate(signal)).toBeUndefined();
    state.lag = 1001;
    state.busy = 0.89;
    admission.sample();
    expect(admission.status().holding).toBe(false);
    state.busy = 0.9;
    state.now = 100;
    admission.sample();
    expect(admission.status()).toEqual({ holding: true, holds: 1, heldMs: 0 });
    expect(admission.gate(signal)).toBeInstanceOf(Promise);
    // Holding, the loop has time again; still held until the lane is back within the low water.
    state.busy = 0.1;
    state.lag = 501;
    state.now = 350;
    admission.sample();
    expect(admission.status()).toEqual({ holding: true, holds: 1, heldMs: 250 });
    state.lag = 500;
    state.now = 400;
    admission.sample();
    expect(admission.status()).toEqual({ holding: false, holds: 1, heldMs: 300 });
    expect(admission.gate(signal)).toBeUndefined();
  });

  it('never holds for a broker that is away or slow: no live lane, or a loop with time to spare', () => {
    const { state, admission } = rig();
    state.busy = 1;
    state.lag = undefined;
    admission.sample();
    expect(admission.status().holding).toBe(false);
    state.busy = 0.2;
    state.lag = 1_000_000;
    admission.sample();
    expect(admission.status().holding).toBe(false);
    // Held, then the connection drops: released at once, whatever the lag was.
    state.busy = 1;
    admission.sample();
    expect(admission.status().holding).toBe(true);
    state.lag = undefined;
    admission.sample();
    expect(admission.status()).toMatchObject({ holding: false, holds: 1 });
  });

  it('lets every waiting poll go on release, on abort, and on stop', async () => {
    const { state, admission } = rig();
    state.busy = 1;
    state.lag = 5000;
    admission.sample();
    const a = new AbortController();
    const b = new AbortController();
    const first = admission.gate(a.signal);
    const second = admission.gate(b.signal);
    const open = admission.waitOpen();
    expect(await settled(first)).toBe(false);
    a.abort();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    expect(await settled(open)).toBe(false);
    state.lag = 0;
    admission.sample();
    expect(await settled(second)).toBe(true);
    expect(await settled(open)).toBe(true);
    // Held again, then stopped: released, and no sample holds it any more.
    state.lag = 5000;
    admission.sample();
    const third = admission.gate(new AbortController().signal);
    admission.stop();
    expect(await settled(third)).toBe(true);
    expect(admission.waitOpen()).toBeUndefined();
  });

  it('warns on the first hold and then at most once a minute, counting the holds between', () => {
    const { state, admission, warnings } = rig();
    const cycle = (at: number) => {
      state.now = at;
      state.busy = 1;
      state.lag = 2000;
      admission.sample();
      state.lag = 0;
      admission.sample();
    };
    cycle(40_000);
    cycle(50_000);
    cycle(70_000);
    cycle(100_000);
    expect(warnings).toEqual([
      expect.objectContaining({ holds: 1, holdsSinceLastWarning: 1, liveLag: 2000, loopBusy: 1 }),
      expect.objectContaining({ holds: 4, holdsSinceLastWarning: 3 }),
    ]);
    expect(warnings[0]).toMatchObject({ msg: expect.stringMatching(/^overloaded: acquisition held back/) });
  });

  it('leaves no listener on a poll signal once it lets the poll go', async () => {
    const { state, admission } = rig();
    state.busy = 1;
    state.lag = 5000;
    admission.sample();
    const signal = new AbortController().signal;
    const waiting = admission.gate(signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    state.lag = 0;
    admission.sample();
    expect(await settled(waiting)).toBe(true);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('samples on its own timer and reads the real event loop: a blocked loop is saturated, an idle one is not', async () => {
    let lag: number | undefined = 5000;
    // No logger, no injected loop, clock or sampling: as the gateway builds it. Windows of 100 ms,
    // so a busy test machine descheduling this thread for a moment does not look like saturation.
    const admission = new Admission({ liveLag: () => lag, highWater: 1000, lowWater: 500, sampleMs: 100 });
    admission.stop(); // never held: nothing to let go
    admission.start();
    admission.start(); // once is enough
    await new Promise((r) => setTimeout(r, 350)); // an idle loop: lag alone holds nothing
    expect(admission.status().holding).toBe(false);
    const until = performance.now() + 1000;
    while (performance.now() < until); // the loop blocked, as by a long commit
    await new Promise((r) => setTimeout(r, 10)); // the next sample sees it
    expect(admission.status()).toMatchObject({ holding: true, holds: 1 });
    await new Promise((r) => setTimeout(r, 50));
    lag = 0;
    await new Promise((r) => setTimeout(r, 60));
    const s = admission.status();
    expect(s).toMatchObject({ holding: false, holds: 1 });
    expect(s.heldMs).toBeGreaterThanOrEqual(40);
    admission.stop();
  });

  it('once started and held, lets go within a few ms of the catch-up, not at the next sample', async () => {
    let lag: number | undefined = 5000;
    const admission = new Admission({
      liveLag: () => lag,
      highWater: 1000,
      lowWater: 500,
      utilization: () => 1,
      sampleMs: 60_000, // the regular sample never comes in this test
      releaseSampleMs: 2,
    });
    admission.start();
    admission.sample();
    const opened = admission.waitOpen();
    expect(admission.status().holding).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(admission.status().holding).toBe(true); // still behind: held
    lag = 500; // at the low water
    const t0 = performance.now();
    await opened;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(admission.status()).toMatchObject({ holding: false, holds: 1 });
    // Held again when the lag returns, and let go when the uplink goes away.
    lag = 5000;
    admission.sample();
    const again = admission.waitOpen();
    expect(again).toBeInstanceOf(Promise);
    lag = undefined;
    await again;
    expect(admission.status()).toMatchObject({ holding: false, holds: 2 });
    admission.stop();
  });

  it('not started, a hold is let go by samples only (what the tests above rely on)', async () => {
    const { state, admission } = rig();
    state.busy = 1;
    state.lag = 5000;
    admission.sample();
    state.lag = 0;
    await new Promise((r) => setTimeout(r, 20));
    expect(admission.status().holding).toBe(true);
    admission.sample();
    expect(admission.status().holding).toBe(false);
  });

  it('refuses a low water that is not below the high water', () => {
    expect(() => rig({ highWater: 100, lowWater: 100 })).toThrow(/lowWater 100 must be below highWater 100/);
  });
});

describe('admission and the scheduler', () => {
  it('holds every device while held; the slots that passed ride on each next reading as missed', async () => {
    const profile = loadProfileFile(
      fileURLToPath(new URL('../../fixtures/acquisition/profiles/bench/cems-10f.yaml', import.meta.url)),
    );
    const cells = new Map<string, number>();
    for (const r of profile.examples[0]!.registers)
      for (const [k, v] of cellsOf(r.function, r.address, r.words)) cells.set(k, v);
    const clock = new VirtualClock();
    const line = new MemoryLine(clock);
    const readings: ReadingDraft[] = [];
    const { state, admission } = rig();
    const engine = new Acquisition(
      {
        buses: [
          {
            name: 'rs485',
            link: { kind: 'rtu', path: '/dev/null', line: { baud: 9600 } },
            recycleAfterTimeouts: 0,
            devices: [1, 2].map((unitId) => ({ id: `a${unitId}`, profile, unitId, periodMs: 1000 })),
          },
        ],
      },
      {
        clock,
        random: () => 0.5,
        transportFactory: () => line,
        onReadings: (d) => readings.push(...d),
        gate: admission.gate,
      },
    );
    for (const unitId of [1, 2]) line.add({ unitId, cells, turnaroundMs: 10 });
    const so2 = (device: string) => readings.filter((r) => r.device === device && r.point === 'so2');

    engine.start();
    await clock.runFor(3_000);
    const before = { a1: so2('a1').length, a2: so2('a2').length };
    expect(before.a1).toBeGreaterThanOrEqual(2);
    state.busy = 1;
    state.lag = 5000;
    admission.sample();
    await clock.runFor(5_000);
    // Held: at most the poll already under way when the hold began.
    expect(so2('a1').length - before.a1).toBeLessThanOrEqual(1);
    expect(so2('a2').length - before.a2).toBeLessThanOrEqual(1);
    const requests = line.log.length;
    await clock.runFor(2_000);
    expect(line.log.length).toBe(requests);

    state.lag = 0;
    admission.sample();
    await clock.runFor(3_000);
    await engine.stop();
    for (const device of ['a1', 'a2']) {
      const series = so2(device);
      const missed = series.flatMap((r) => (r.missed ? missedTimes(r.missed) : []));
      // About seven seconds held at a 1 s period: six or seven slots missed, each once, none polled.
      expect(missed.length).toBeGreaterThanOrEqual(5);
      expect(missed.length).toBeLessThanOrEqual(8);
      expect(new Set(missed).size).toBe(missed.length);
      const polled = new Set(series.map((r) => r.ts));
      expect(missed.some((t) => polled.has(t))).toBe(false);
      expect(series.at(-1)!.flag).toBe('N');
    }
    expect(engine.health().devices.every((d) => d.overruns >= 5)).toBe(true);
  });
});
