import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missedTimes, type ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import type { Profile } from '../../../gateway/src/profiles/schema.js';
import { Acquisition, type DeviceOptions } from '../../../gateway/src/acquisition/engine.js';
import { MemoryLine, cellsOf } from '../../fixtures/acquisition/memory-line.js';
import { VirtualClock } from '../../fixtures/acquisition/virtual-clock.js';

const bench = loadProfileFile(
  fileURLToPath(new URL('../../fixtures/acquisition/profiles/bench/cems-10f.yaml', import.meta.url)),
);
const example = bench.examples[0]!;

function benchCells(): Map<string, number> {
  const cells = new Map<string, number>();
  for (const r of example.registers)
    for (const [k, v] of cellsOf(r.function, r.address, r.words)) cells.set(k, v);
  return cells;
}

function rig(devices: Partial<DeviceOptions>[], profile: Profile = bench) {
  const clock = new VirtualClock();
  const line = new MemoryLine(clock);
  const readings: ReadingDraft[] = [];
  let draw = 0;
  const engine = new Acquisition(
    {
      buses: [
        {
          name: 'rs485',
          link: { kind: 'rtu', path: '/dev/null', line: { baud: 9600 } },
          recycleAfterTimeouts: 0,
          devices: devices.map((d, i) => ({ id: `a${i + 1}`, profile, unitId: i + 1, periodMs: 1000, ...d })),
        },
      ],
    },
    {
      clock,
      // Deterministic jitter that still varies: 0.1, 0.3, ... 0.9, 0.1, ...
      random: () => ((draw++ % 5) * 2 + 1) / 10,
      transportFactory: () => line,
      onReadings: (d) => readings.push(...d),
    },
  );
  devices.forEach((_, i) => line.add({ unitId: i + 1, cells: benchCells(), turnaroundMs: 10 }));
  const of = (device: string) => readings.filter((r) => r.device === device);
  /** The flags one point got, poll after poll, as a string such as "NNBBN". */
  const flagsOf = (device: string, point: string) =>
    of(device)
      .filter((r) => r.point === point)
      .map((r) => r.flag)
      .join('');
  return { clock, line, engine, readings, of, flagsOf };
}

const health = (engine: Acquisition, device: string) =>
  engine.health().devices.find((d) => d.device === device)!;

describe('scheduler', () => {
  it('polls every device at its period and reports each value with the time of its reply', async () => {
    const { clock, engine, of } = rig([{}, {}, { periodMs: 2000 }]);
    engine.start();
    await clock.runFor(9_999);
    await engine.stop();
    expect(health(engine, 'a1').polls).toBe(10);
    expect(health(engine, 'a3').polls).toBe(5);
    const so2 = of('a1').filter((r) => r.point === 'so2');
    expect(so2.map((r) => r.value)).toEqual(Array(10).fill(12.5));
    expect(so2.every((r) => r.flag === 'N')).toBe(true);
    expect(so2[1]!.ts - so2[0]!.ts).toBe(1000);
    expect(
      of('a1')
        .filter((r) => r.ts === so2[0]!.ts)
        .map((r) => r.point),
    ).toContain('o2');
    expect(health(engine, 'a1')).toMatchObject({ state: 'ok', overruns: 0, plannedReads: 2 });
  });

  it('merges overdue polls when the bus is slower than asked, counts the overruns, and the queue stays bounded', async () => {
    const { clock, line, engine, of } = rig([{ periodMs: 100 }, { periodMs: 100 }, { periodMs: 100 }]);
    engine.start();
    await clock.runFor(10_000);
    await engine.stop();
    expect(line.maxInFlight).toBe(1);
    expect(engine.health().buses[0]!.maxQueued).toBeLessThanOrEqual(3);
    for (const d of ['a1', 'a2', 'a3']) {
      const h = health(engine, d);
      // The merged slots ride on the readings of the poll they merged into (one record per poll,
      // not one per slot), each at its own due time on the device's 100 ms grid.
      const so2 = of(d).filter((r) => r.point === 'so2');
      const alone = so2.filter((r) => r.quality?.[0] === 'overrun').length;
      const missed = so2.flatMap((r) => (r.missed ? missedTimes(r.missed) : []));
      expect(alone).toBeLessThanOrEqual(1);
      expect(so2.length - alone).toBe(h.polls);
      expect(missed.length + alone).toBe(h.overruns);
      expect(so2.every((r) => r.missed === undefined || r.missed.periodMs === 100)).toBe(true);
      expect(new Set(missed.map((t) => t % 100)).size).toBe(1);
      expect(new Set(missed).size).toBe(missed.length);
      // One round of three analyzers costs 310 ms on the wire: about 32 polls in 10 s, not 100.
      expect(h.polls).toBeGreaterThanOrEqual(30);
      expect(h.polls).toBeLessThanOrEqual(34);
      expect(h.overruns).toBeGreaterThan(50);
      // Every period is accounted for: polled, or merged into a later poll.
      expect(h.polls + h.overruns).toBeGreaterThanOrEqual(98);
      expect(h.polls + h.overruns).toBeLessThanOrEqual(101);
    }
  });

  it('never leaves an old value as new: a failed read gives B and null, then the next good value', async () => {
    const { clock, line, engine, of } = rig([{}]);
    line.devices.get(1)!.faults = [];
    engine.start();
    await clock.runFor(500);
    line.devices.get(1)!.faults = ['timeout', 'timeout'];
    await clock.runFor(1000);
    line.devices.get(1)!.cells.set('3:1', 0x8000); // so2 becomes 0x41488000 = 12.53125
    // The retry waits out the late-reply window (one timeout) after the first timeout.
    await clock.runFor(1700);
    await engine.stop();
    const so2 = of('a1').filter((r) => r.point === 'so2');
    expect(so2.slice(0, 3).map((r) => [r.value, r.flag])).toEqual([
      [12.5, 'N'],
      [null, 'B'],
      [12.53125, 'N'],
    ]);
    expect(so2[1]!.quality).toEqual(['timeout']);
    // The second block was not even tried once the device had timed out.
    const temp = of('a1').filter((r) => r.point === 'temp');
    expect(temp[1]).toMatchObject({ value: null, flag: 'B' });
  });

  it('re-plans a device without gap filling when it refuses a filled gap, and still reads every point that poll', async () => {
    const gappy: Profile = {
      ...bench,
      id: 'test.gappy',
      points: bench.points.filter((p) => p.key === 'so2' || p.key === 'co'),
    };
    const { clock, line, engine, of } = rig([{}], gappy);
    line.devices.get(1)!.refuse = [{ function: 3, start: 4, end: 5 }];
    expect(engine.plans()[0]!.reads.map((r) => [r.address, r.count])).toEqual([[0, 12]]);
    engine.start();
    await clock.runFor(1500);
    await engine.stop();
    expect(of('a1').map((r) => [r.point, r.value, r.flag])).toEqual([
      ['so2', 12.5, 'N'],
      ['co', 5.5, 'N'],
      ['so2', 12.5, 'N'],
      ['co', 5.5, 'N'],
    ]);
    expect(health(engine, 'a1')).toMatchObject({
      planStrategy: 'contiguous',
      plannedReads: 2,
      exceptions: 1,
    });
  });

  it('refuses two devices with one unit id on a bus with ACQ_OPTIONS_INVALID', () => {
    expect(() => rig([{ unitId: 4 }, { unitId: 4 }])).toThrowError(
      expect.objectContaining({ code: 'ACQ_OPTIONS_INVALID' }),
    );
  });
});

describe('scheduler and dead devices', () => {
  it('costs the others at most the dead device timeout budget, backs it off with jitter and probes it again', async () => {
    const run = async (withDead: boolean) => {
      const devices = [
        { periodMs: 10 },
        { periodMs: 10 },
        ...(withDead ? [{ periodMs: 1000, timeoutMs: 500 }] : []),
      ];
      const r = rig(devices);
      if (withDead) r.line.devices.get(3)!.silent = true;
      r.engine.start();
      await r.clock.runFor(120_000);
      await r.engine.stop();
      return r;
    };
    const alone = await run(false);
    const dead = await run(true);
    const polls = (r: typeof alone) => health(r.engine, 'a1').polls + health(r.engine, 'a2').polls;
    const deadTx = dead.line.log.filter((t) => t.unitId === 3);
    const deadTime = deadTx.reduce((s, t) => s + t.end - t.start, 0);
    const cost = 1 - polls(dead) / polls(alone);
    // The others lose exactly the bus time the dead device's timeouts took, and no more.
    expect(cost).toBeCloseTo(deadTime / 120_000, 2);
    // Two polls with one retry each (4 × 500 ms), then single-request probes at growing, jittered intervals.
    expect(deadTx.slice(0, 4).every((t) => t.outcome === 'TRANSPORT_TIMEOUT')).toBe(true);
    // A probe waits twice the modelled read (request, 10 ms turnaround, reply: 55.8 ms) plus
    // 50 ms, not the 500 ms timeout: the others are held up that much less.
    expect(deadTx.slice(4).every((t) => t.end - t.start === 162)).toBe(true);
    const probes = deadTx.slice(4).map((t) => t.start);
    const gaps = probes.slice(1).map((t, i) => t - probes[i]!);
    expect(probes.length).toBeGreaterThanOrEqual(4);
    expect(probes.length).toBeLessThanOrEqual(9);
    expect(gaps.some((g, i) => i > 0 && g > gaps[i - 1]!)).toBe(true);
    expect(new Set(gaps.map((g) => Math.round(g / 100))).size).toBeGreaterThan(2);
    expect(cost).toBeLessThan(0.1);
    // Every period of the dead device still produced readings: B, value null.
    const h = health(dead.engine, 'a3');
    expect(h.state).toBe('backoff');
    expect(h.polls + h.skippedPolls + h.overruns).toBeGreaterThanOrEqual(118);
    const so2 = dead.of('a3').filter((r) => r.point === 'so2');
    // A slot overrun while a probe ran rides on the next reading.
    const missed = so2.reduce((n, r) => n + (r.missed?.slots ?? 0), 0);
    expect(missed).toBe(h.overruns);
    expect(so2.length + missed).toBe(h.polls + h.skippedPolls + h.overruns);
    expect(so2.every((r) => r.value === null && r.flag === 'B')).toBe(true);
  }, 60_000); // two 120 s runs in virtual time: CPU-bound, slow on a busy machine

  it('recovers a device after a power cycle: back-off, probe, then normal polls', async () => {
    const { clock, line, engine, of, flagsOf } = rig([{ periodMs: 1000 }, { periodMs: 1000 }]);
    engine.start();
    await clock.runFor(2_500);
    line.devices.get(2)!.silent = true;
    await clock.runFor(10_000);
    expect(health(engine, 'a2').state).toBe('backoff');
    line.devices.get(2)!.silent = false;
    await clock.runFor(70_000);
    await engine.stop();
    expect(flagsOf('a2', 'o2')).toMatch(/^N{3}B+N{10,}$/);
    expect(health(engine, 'a2')).toMatchObject({ state: 'ok', consecutiveFailures: 0 });
    // The healthy neighbour never missed a period.
    expect(of('a1').filter((r) => r.point === 'o2' && r.flag !== 'N')).toEqual([]);
  });

  it('keeps polling across a link outage: B readings while down, values once it reconnects', async () => {
    const { clock, line, engine, flagsOf } = rig([{}]);
    engine.start();
    await clock.runFor(1_500);
    line.refuseOpens = 2;
    line.drop();
    await clock.runFor(10_000);
    await engine.stop();
    expect(flagsOf('a1', 'so2')).toMatch(/^N{2}B+N{5,}$/);
    expect(engine.health().buses[0]).toMatchObject({ drops: 1, connectFailures: 2 });
    // A link failure is not the device's fault: it is never backed off for it.
    expect(health(engine, 'a1').skippedPolls).toBe(0);
  });

  it('discards a poll cut short by stop(): no B reading for a read the stop interrupted', async () => {
    const { clock, line, engine, readings } = rig([
      { periodMs: 5000 },
      { periodMs: 5000 },
      { periodMs: 5000 },
    ]);
    for (const d of line.devices.values()) d.turnaroundMs = 300;
    engine.start();
    await clock.runFor(1_500); // every device mid-poll: one read on the line, the others queued
    expect(line.log.at(-1)!.end).toBe(0);
    const before = readings.length;
    await clock.until(engine.stop(), 5_000);
    expect(readings.slice(before)).toEqual([]);
    expect(readings.filter((r) => r.flag === 'B')).toEqual([]);
    expect(engine.health().devices.every((d) => d.failedPolls === 0 && d.linkErrors === 0)).toBe(true);
  });

  it('stops promptly: no transaction after stop(), every loop ended', async () => {
    const { clock, line, engine } = rig([{ periodMs: 10 }, { periodMs: 10 }]);
    engine.start();
    await clock.runFor(1_000);
    await clock.until(engine.stop(), 5_000);
    const n = line.log.length;
    await clock.runFor(5_000);
    expect(line.log.length).toBe(n);
  });
});

describe('scheduler and the reading sink', () => {
  it('keeps polling when the sink throws, and counts every poll whose readings it refused', async () => {
    const clock = new VirtualClock();
    const line = new MemoryLine(clock).add({ unitId: 1, cells: benchCells(), turnaroundMs: 10 });
    let calls = 0;
    const engine = new Acquisition(
      {
        buses: [
          {
            name: 'rs485',
            link: { kind: 'rtu', path: '/dev/null', line: { baud: 9600 } },
            devices: [{ id: 'a1', profile: bench, unitId: 1, periodMs: 1000 }],
          },
        ],
      },
      {
        clock,
        transportFactory: () => line,
        onReadings: () => {
          if (++calls <= 2) throw new Error('disk full');
        },
      },
    );
    engine.start();
    await clock.runFor(4_500);
    await engine.stop();
    expect(calls).toBe(5);
    expect(health(engine, 'a1')).toMatchObject({ polls: 5, sinkErrors: 2, state: 'ok' });
  });
});

describe('one device, one read at a time', () => {
  it('queues a pollOnce behind the scheduled poll instead of reading the device twice at once', async () => {
    const { clock, line, engine } = rig([{ periodMs: 1000 }]);
    engine.start();
    await clock.runFor(10); // the scheduled poll is on the line now
    const once = engine.pollOnce();
    await clock.until(once);
    await engine.stop();
    const log = line.log.filter((t) => t.unitId === 1);
    expect(log).toHaveLength(4);
    for (let i = 1; i < log.length; i++) expect(log[i]!.start).toBeGreaterThanOrEqual(log[i - 1]!.end);
    expect(log.map((t) => t.address)).toEqual([0, 100, 0, 100]);
  });
});

describe('many devices', () => {
  it('starts and polls 50 devices without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      // 50 analyzers at 9600 baud: about 5.2 s per round of polls.
      const { clock, engine, readings } = rig(Array.from({ length: 50 }, () => ({ periodMs: 10_000 })));
      engine.start();
      await clock.runFor(12_000);
      await clock.until(engine.stop(), 5_000);
      await new Promise((r) => setImmediate(r));
      expect(new Set(readings.map((r) => r.device)).size).toBe(50);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});

describe('boot delay', () => {
  const booting: Profile = { ...bench, quirks: { ...bench.quirks, bootDelayMs: 3000 } };
  const starts = (line: MemoryLine, unit: number) =>
    line.log.filter((t) => t.unitId === unit).map((t) => t.start);

  it('gives a device bootDelayMs after each link connect before its first request; others go on', async () => {
    const { clock, line, engine } = rig([{ profile: booting }, {}]);
    engine.start();
    await clock.runFor(5_000);
    expect(starts(line, 1)[0]).toBeGreaterThanOrEqual(3000);
    expect(starts(line, 2)[0]).toBeLessThan(100);
    line.drop();
    await clock.runFor(6_000);
    await engine.stop();
    // The link reconnects on the first request after the drop (at 5 s or later); the booting
    // device waits 3 s after that, while its neighbour is polled as before.
    expect(starts(line, 1).filter((t) => t > 5000)[0]).toBeGreaterThanOrEqual(8000);
    expect(starts(line, 2).filter((t) => t > 5000 && t < 8000).length).toBeGreaterThanOrEqual(4);
    expect(line.opens).toBe(2);
  });

  it('gives a device bootDelayMs after it answers a probe again, before its next request', async () => {
    const { clock, line, engine } = rig([{ profile: booting }]);
    line.devices.get(1)!.silent = true;
    engine.start();
    await clock.runFor(15_000);
    expect(health(engine, 'a1').state).toBe('backoff');
    line.devices.get(1)!.silent = false;
    await clock.runFor(70_000);
    await engine.stop();
    const log = line.log.filter((t) => t.unitId === 1);
    const probe = log.findIndex((t, i) => i > 0 && t.outcome === 'ok');
    expect(probe).toBeGreaterThan(0);
    expect(log[probe + 1]!.start - log[probe]!.end).toBeGreaterThanOrEqual(3000);
    expect(health(engine, 'a1').state).toBe('ok');
  });
});
