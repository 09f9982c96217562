/**
 * Injected faults against the real engine and the simulator: every fault leads to flagged
 * readings (B, value null, the reason in quality) and then recovery, never a crash, a stall or
 * a wrong value; the other devices on the bus keep their values.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Quality, ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES, linkTo, startSim, type SimKind } from '../../fixtures/acquisition/sim.js';
import { requireTool } from '../../helpers/tools.js';

const bench = loadProfileFile(join(FIXTURE_PROFILES, 'bench', 'cems-10f.yaml'));
const expected = bench.examples[0]!.values;
const socat = requireTool('socat');
// The pty bus needs socat; without it its cases are skipped and say why.
const BUSES: SimKind[] = socat.available ? ['tcp', 'rtu-tcp', 'pty'] : ['tcp', 'rtu-tcp'];
const UNITS = [1, 2, 3];
const dev = (bus: SimKind, unit: number) => `${bus}-a${unit}`;

let sim: Simulator;
let engine: Acquisition;
const readings: ReadingDraft[] = [];

beforeAll(async () => {
  sim = await startSim(
    BUSES.map((kind) => ({ name: kind, kind })),
    BUSES.flatMap((bus) =>
      UNITS.map((unit) => ({ id: dev(bus, unit), profile: bench.id, unit, bus, coldStart: false })),
    ),
  );
  engine = new Acquisition(
    {
      buses: BUSES.map((bus) => ({
        name: bus,
        link: linkTo(sim, bus),
        reconnect: { initialMs: 100, maxMs: 1000 },
        devices: UNITS.map((unit) => ({
          id: dev(bus, unit),
          profile: bench,
          unitId: unit,
          periodMs: 400,
          timeoutMs: 250,
          retries: 1,
          backoff: { initialMs: 500, maxMs: 1500 },
        })),
      })),
    },
    { onReadings: (d) => readings.push(...d) },
  );
  engine.start();
  await until(() => UNITS.every((u) => BUSES.every((b) => good(readings, dev(b, u)) > 0)), 20_000);
}, 30_000);

afterAll(async () => {
  await engine?.stop();
  await sim?.stop();
});

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Every reading of a device, all points (a fault may hit either of its two reads). */
const ofDevice = (rs: ReadingDraft[], device: string) => rs.filter((r) => r.device === device);
/** B readings for a failed read (not for a slot that overran). */
const failures = (rs: ReadingDraft[]) => rs.filter((r) => r.flag === 'B' && r.quality?.[0] !== 'overrun');
/** Good polls of a device: its first point read with flag N. */
const good = (rs: ReadingDraft[], device: string) =>
  ofDevice(rs, device).filter((r) => r.point === 'so2' && r.flag === 'N').length;

interface Case {
  name: string;
  bus: SimKind;
  fault: Record<string, unknown>;
  /** Qualities a B reading of the target may carry; empty: a retry absorbs the fault, no B at all. */
  quality: Quality[];
  /** The device health counter that must grow; none when the fault leaves no trace. */
  counter?: 'timeouts' | 'crcErrors' | 'badReplies' | 'exceptions' | 'linkErrors';
}

const target = (bus: SimKind) => dev(bus, 2);

type Row = [name: string, bus: SimKind, fault: Case['fault'], quality: string, counter?: Case['counter']];

// name, bus, fault, qualities a B reading may carry (comma-separated), health counter that grows
// prettier-ignore
const ROWS: Row[] = [
  ['a silent device', 'rtu-tcp', { kind: 'no-answer', durationMs: 1200 }, 'timeout,backoff', 'timeouts'],
  ['CRC errors', 'rtu-tcp', { kind: 'crc-error', count: 2 }, 'crc_error', 'crcErrors'],
  ['a device-failure exception', 'rtu-tcp', { kind: 'exception', exceptionCode: 4, count: 1 }, 'exception', 'exceptions'],
  ['garbage instead of replies', 'rtu-tcp', { kind: 'garbage', garbageMode: 'replace', count: 2 }, 'timeout,crc_error,bad_reply', 'timeouts'],
  ['garbage before the reply', 'pty', { kind: 'garbage', garbageMode: 'prefix', count: 3 }, ''],
  ['truncated replies', 'rtu-tcp', { kind: 'truncated', count: 2 }, 'timeout', 'timeouts'],
  ['replies from another unit id over RTU', 'pty', { kind: 'wrong-unit-id', count: 2 }, 'timeout', 'timeouts'],
  ['replies from another unit id over TCP', 'tcp', { kind: 'wrong-unit-id', count: 2 }, 'bad_reply', 'badReplies'],
  ['truncated Modbus TCP replies', 'tcp', { kind: 'truncated', count: 2 }, 'bad_reply,timeout', 'badReplies'],
  ['a reply later than the timeout', 'rtu-tcp', { kind: 'late-answer', delayMs: 400, count: 1 }, '', 'timeouts'],
  ['a power cycle', 'pty', { kind: 'power-cycle', offMs: 1200 }, 'timeout,backoff', 'timeouts'],
  ['a Modbus TCP connection cut mid-request', 'tcp', { kind: 'drop', count: 1 }, 'link_down,timeout', 'linkErrors'],
  ['a device-server link cut mid-request', 'rtu-tcp', { kind: 'drop', count: 1 }, 'link_down,timeout', 'linkErrors'],
];
const CASES: Case[] = ROWS.map(([name, bus, fault, quality, counter]) => ({
  name,
  bus,
  fault,
  quality: quality === '' ? [] : (quality.split(',') as Quality[]),
  counter,
}));

const DROPS: { bus: SimKind }[] = [{ bus: 'tcp' }, { bus: 'rtu-tcp' }, { bus: 'pty' }];

describe('faults from the simulator', () => {
  it.for(CASES.map((c) => [c.name, c] as const))(
    '%s: flagged readings, then recovery',
    async ([, c], ctx) => {
      if (c.bus === 'pty') socat.skip(ctx);
      const from = readings.length;
      const device = target(c.bus);
      const before = engine.health().devices.find((d) => d.device === device)!;
      sim.control.inject({ ...c.fault, device });
      if (c.quality.length > 0) {
        const flagged = await until(
          () => ofDevice(readings.slice(from), device).some((r) => r.flag === 'B'),
          10_000,
        );
        expect(flagged, 'a B reading').toBe(true);
      }
      const recovered = await until(() => {
        const mine = ofDevice(readings.slice(from), device);
        const lastBad = mine.map((r) => r.flag).lastIndexOf('B');
        return good(mine.slice(lastBad + 1), device) >= 2;
      }, 15_000);
      sim.control.clear();
      expect(recovered, 'N readings again after the fault').toBe(true);
      const window = readings.slice(from);
      for (const r of ofDevice(window, device).filter((x) => x.flag === 'B')) {
        expect(r.value).toBeNull();
        // A retry may push the poll past its next slot: that slot is recorded as overrun.
        expect([...c.quality, 'overrun']).toContain(r.quality?.[0]);
      }
      // Never a wrong value, on any device: everything not flagged B is exactly what was served.
      for (const r of window)
        if (r.flag !== 'B') expect(r.value, `${r.device}/${r.point}`).toBe(expected[r.point]);
      // The neighbours never lost a reading to this device's fault (a slot the target's timeouts
      // pushed them past is recorded as overrun, not as a failure).
      for (const u of [1, 3]) expect(failures(ofDevice(window, dev(c.bus, u)))).toEqual([]);
      const after = engine.health().devices.find((d) => d.device === device)!;
      expect(after.polls).toBeGreaterThan(before.polls);
      if (c.counter) expect(after[c.counter], c.counter).toBeGreaterThan(before[c.counter]);
      if (c.quality.length === 0) expect(failures(ofDevice(window, device))).toEqual([]);
    },
  );

  it.for(DROPS.map((d) => [d.bus, d] as const))(
    'a %s link dropped between polls: reconnected, values again, no reading lost to a wrong value',
    async ([, d], ctx) => {
      if (d.bus === 'pty') socat.skip(ctx);
      const from = readings.length;
      const before = engine.health().buses.find((b) => b.bus === d.bus)!;
      sim.control.inject({ kind: 'drop', bus: d.bus, offMs: 800 });
      const reconnected = await until(() => {
        const h = engine.health().buses.find((b) => b.bus === d.bus)!;
        return h.connects > before.connects && h.connected;
      }, 15_000);
      expect(reconnected).toBe(true);
      const mark = readings.length;
      const polling = await until(
        () => UNITS.every((u) => good(readings.slice(mark), dev(d.bus, u)) >= 2),
        15_000,
      );
      sim.control.clear();
      expect(polling).toBe(true);
      for (const r of readings.slice(from)) {
        if (r.flag === 'B') {
          expect(r.value).toBeNull();
          expect(['timeout', 'link_down', 'backoff', 'overrun']).toContain(r.quality?.[0]);
        } else expect(r.value).toBe(expected[r.point]);
      }
    },
  );
});
