/**
 * The acquisition thread never runs ahead of the main thread by more than its in-flight bound:
 * while the main thread is stuck (a long commit, an overload), the worker's polls wait, the slots
 * that pass are recorded as overrun on every device, and what piled up between the threads is
 * the bound, not everything the buses could have read meanwhile. Simulated Modbus TCP devices in
 * a process of their own, over real sockets; the worker thread as the gateway starts it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadedAcquisition } from '../../../gateway/src/acquisition/threaded.js';
import { silentLogger } from '../../../gateway/src/core/logger.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import { SimProcess } from '../../../bench/sim-process.js';
import { FIXTURE_PROFILES, linkTo } from '../../fixtures/acquisition/sim.js';

const profile = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const BUSES = ['b1', 'b2', 'b3', 'b4'];
const UNITS = [1, 2, 3];
const PERIOD_MS = 100;
const IN_FLIGHT_MAX = 200;
const STUCK_MS = 2000;

let sim: SimProcess | undefined;
let acquisition: ThreadedAcquisition | undefined;
beforeAll(async () => {
  // The devices in a process of their own: they answer while this thread is stuck.
  sim = await SimProcess.start(
    BUSES.map((name) => ({ name, kind: 'tcp' as const })),
    BUSES.flatMap((bus) =>
      UNITS.map((unit) => ({ id: `${bus}-d${unit}`, profile: profile.id, unit, bus, coldStart: false })),
    ),
  );
}, 60_000);
afterAll(async () => {
  await acquisition?.close();
  await sim?.stop();
});

/** 12 devices × 10 points at 100 ms: 1 200 readings/s once running. */
function startThread(
  deps: Omit<ConstructorParameters<typeof ThreadedAcquisition>[1], 'logger' | 'inFlightMax'>,
) {
  const a = new ThreadedAcquisition(
    {
      buses: BUSES.map((bus) => ({
        name: bus,
        link: linkTo(sim!, bus),
        devices: UNITS.map((unit) => ({ id: `${bus}-d${unit}`, profile, unitId: unit, periodMs: PERIOD_MS })),
      })),
    },
    { logger: silentLogger, inFlightMax: IN_FLIGHT_MAX, ...deps },
  );
  a.start();
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what() && Date.now() < deadline) await sleep(50);
  expect(what()).toBe(true);
}

/** Keeps the main thread busy, as a long synchronous commit would. */
function stuck(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('the acquisition thread under a slow main thread', () => {
  it('holds its polls at the in-flight bound and records the missed slots on every device', async () => {
    const received: { turn: number; drafts: ReadingDraft[] }[] = [];
    let turn = 0;
    let total = 0;
    acquisition = startThread({
      onReadings: (drafts) => {
        received.push({ turn, drafts });
        total += drafts.length;
      },
    });
    await until(() => total >= 1000);

    const before = received.length;
    stuck(STUCK_MS);
    // The messages that waited are taken in the turn that ends here, before any answer to them
    // can have let the worker poll again.
    turn = 1;
    setImmediate(() => (turn = 2));
    await new Promise((r) => setTimeout(r, 1500));
    await acquisition.stop();

    // What waited between the threads while the main thread was stuck arrives at once when it is
    // free: under the bound plus the polls already running when it was reached (12 devices × 10
    // readings), not the 2 400 the devices could have given in those 2 s.
    const burst = received.filter((r) => r.turn === 1).reduce((n, r) => n + r.drafts.length, 0);
    expect(burst).toBeGreaterThan(0);
    expect(burst).toBeLessThan(IN_FLIGHT_MAX + 120);

    // The slots the held polls missed are recorded, on every device, on the readings after.
    const after = received.slice(before).flatMap((r) => r.drafts);
    for (const bus of BUSES) {
      for (const unit of UNITS) {
        const device = `${bus}-d${unit}`;
        const so2 = after.filter((r) => r.device === device && r.point === 'so2');
        const missed = so2.reduce((n, r) => n + (r.missed?.slots ?? 0), 0);
        expect(missed, device).toBeGreaterThanOrEqual(10);
        expect(
          acquisition.health().devices.find((d) => d.device === device)?.overruns,
          device,
        ).toBeGreaterThan(0);
      }
    }
    // And polling went on once the main thread caught up: every value read is exact.
    const values = after.filter((r) => r.flag === 'N');
    expect(values.length).toBeGreaterThan(500);
    expect(values.filter((r) => r.point === 'so2').every((r) => r.value === 12.5)).toBe(true);
  }, 60_000);

  it('holds its polls while admission is held on the main thread, and goes on with the missed slots recorded', async () => {
    await acquisition?.close();
    let held: { promise: Promise<void>; release: () => void } | undefined;
    const drafts: ReadingDraft[] = [];
    acquisition = startThread({
      onReadings: (d) => drafts.push(...d),
      admission: { waitOpen: () => held?.promise },
    });
    await until(() => drafts.length >= 600);
    let release = (): void => undefined;
    held = { promise: new Promise<void>((r) => (release = r)), release: () => release() };
    const atHold = drafts.length;
    await sleep(1500);
    // The main thread is free all along; the worker stops once the bound is in flight (plus the
    // polls already running), instead of the 1 800 readings 1.5 s would have given.
    const whileHeld = drafts.length - atHold;
    expect(whileHeld).toBeLessThan(IN_FLIGHT_MAX + 2 * 120);
    const settledAt = drafts.length;
    await sleep(500);
    expect(drafts.length).toBe(settledAt);

    held.release();
    held = undefined;
    await until(() => drafts.length >= settledAt + 600);
    await acquisition.stop();
    const after = drafts.slice(settledAt);
    for (const bus of BUSES)
      for (const unit of UNITS) {
        const so2 = after.filter((r) => r.device === `${bus}-d${unit}` && r.point === 'so2');
        expect(
          so2.reduce((n, r) => n + (r.missed?.slots ?? 0), 0),
          `${bus}-d${unit}`,
        ).toBeGreaterThanOrEqual(10);
      }
    expect(after.filter((r) => r.point === 'so2' && r.flag === 'N').every((r) => r.value === 12.5)).toBe(
      true,
    );
  }, 60_000);
});
