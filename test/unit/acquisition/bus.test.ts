import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { silentLogger } from '../../../gateway/src/core/logger.js';
import { Bus, type Transaction } from '../../../gateway/src/acquisition/bus.js';
import { backoffMs } from '../../../gateway/src/acquisition/link.js';
import { MemoryLine, cellsOf, type Fault } from '../../fixtures/acquisition/memory-line.js';
import { VirtualClock } from '../../fixtures/acquisition/virtual-clock.js';

const SILENCE = 3.65;

function setup(
  opts: { silenceMs?: number; recycleAfterTimeouts?: number; maxInFlight?: number; units?: number } = {},
) {
  const clock = new VirtualClock();
  const line = new MemoryLine(clock);
  for (let unitId = 1; unitId <= (opts.units ?? 3); unitId++) {
    line.add({ unitId, cells: cellsOf(3, 0, [unitId * 100, 1, 2, 3]), turnaroundMs: 10 });
  }
  const bus = new Bus({
    name: 'rs485',
    where: 'memory',
    transport: line,
    silenceMs: opts.silenceMs ?? SILENCE,
    clock,
    logger: silentLogger,
    random: () => 0.5,
    recycleAfterTimeouts: opts.recycleAfterTimeouts ?? 0,
    reconnect: { initialMs: 200, maxMs: 2000 },
    ...(opts.maxInFlight === undefined ? {} : { maxInFlight: opts.maxInFlight }),
  });
  const tx = (unitId: number, over: Partial<Transaction> = {}): Transaction => ({
    device: `d${unitId}`,
    frame: { unitId, function: 3, address: 0, count: 4 },
    timeoutMs: 300,
    retries: 1,
    minGapMs: 0,
    ...over,
  });
  return { clock, line, bus, tx };
}

const codeOf = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => (isLantianError(e) ? e.code : 'not a LantianError'),
  );

describe('bus arbitration', () => {
  it('keeps exactly one transaction in flight while three devices poll at once, with the silence between frames', async () => {
    const { clock, line, bus, tx } = setup();
    const work = [1, 2, 3].map(async (u) => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) out.push((await bus.execute(tx(u)))[0]!);
      return out;
    });
    const results = await clock.until(Promise.all(work));
    expect(results).toEqual([1, 2, 3].map((u) => Array<number>(10).fill(u * 100)));
    expect(line.maxInFlight).toBe(1);
    expect(line.log).toHaveLength(30);
    for (let i = 1; i < line.log.length; i++) {
      expect(line.log[i]!.start - line.log[i - 1]!.end).toBeGreaterThanOrEqual(SILENCE - 1e-9);
    }
    // Served in turn, not one device first.
    expect(line.log.slice(0, 6).map((t) => t.unitId)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('waits no longer than the silence: back-to-back transactions start exactly t3.5 after the last frame', async () => {
    const { clock, line, bus, tx } = setup();
    await clock.until(Promise.all([bus.execute(tx(1)), bus.execute(tx(2))]));
    expect(line.log[1]!.start - line.log[0]!.end).toBeCloseTo(SILENCE, 9);
  });

  it('gives a device its minimum gap after its own reply and lets others use the line meanwhile', async () => {
    const { clock, line, bus, tx } = setup();
    const slow = (async () => {
      for (let i = 0; i < 3; i++) await bus.execute(tx(1, { minGapMs: 100 }));
    })();
    const fast = (async () => {
      for (let i = 0; i < 6; i++) await bus.execute(tx(2));
    })();
    await clock.until(Promise.all([slow, fast]));
    const mine = line.log.filter((t) => t.unitId === 1);
    for (let i = 1; i < mine.length; i++)
      expect(mine[i]!.start - mine[i - 1]!.end).toBeGreaterThanOrEqual(100);
    const firstGap = line.log.filter((t) => t.start > mine[0]!.end && t.start < mine[1]!.start);
    expect(firstGap.length).toBeGreaterThan(0);
    expect(firstGap.every((t) => t.unitId === 2)).toBe(true);
    expect(line.maxInFlight).toBe(1);
  });
  it('picks the next transaction at a cost that does not grow with the queue: the first ready one goes', async () => {
    const { clock, line, bus, tx } = setup({ silenceMs: 0 });
    const n = 200;
    let looks = 0;
    // Each look at a queued transaction's readiness reads its minimum gap.
    const counted = (i: number): Transaction => {
      const t = tx(1, { device: `dev${i}` });
      return Object.defineProperty(t, 'minGapMs', {
        get: () => {
          looks++;
          return 0;
        },
      });
    };
    const before = line.log.length;
    await clock.until(Promise.all(Array.from({ length: n }, (_, i) => bus.execute(counted(i)))));
    expect(line.log.length - before).toBe(n);
    // Scanning the whole queue for each pick would take about n²/2 looks.
    expect(looks).toBeLessThan(4 * n);
  });
});

describe('bus with several transactions in flight (Modbus TCP)', () => {
  it('keeps up to maxInFlight on the line, each device one at a time, every answer its own', async () => {
    const { clock, line, bus, tx } = setup({ silenceMs: 0, maxInFlight: 3, units: 6 });
    const work = [1, 2, 3, 4, 5, 6].map(async (u) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await bus.execute(tx(u)))[0]!);
      return out;
    });
    const t0 = clock.monotonic();
    const results = await clock.until(Promise.all(work));
    const elapsed = clock.monotonic() - t0;
    expect(results).toEqual([1, 2, 3, 4, 5, 6].map((u) => Array<number>(5).fill(u * 100)));
    expect(line.maxInFlight).toBe(3);
    expect(line.log).toHaveLength(30);
    for (const u of [1, 2, 3, 4, 5, 6]) {
      const mine = line.log.filter((t) => t.unitId === u);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end);
    }
    // Three at a time: about a third of the time one at a time takes.
    const serial = line.log.reduce((sum, t) => sum + (t.end - t.start), 0);
    expect(elapsed).toBeLessThan(serial / 2);
    // Busy counts the time with any transaction on the line once, not once per transaction.
    const h = bus.health();
    expect(h.busyMs).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(h.busyMs).toBeGreaterThan(elapsed / 2);
    expect(h.requests).toBe(30);
    expect(h.replies).toBe(30);
  });

  it('still honours a device’s minimum gap while other lanes use the line', async () => {
    const { clock, line, bus, tx } = setup({ silenceMs: 0, maxInFlight: 2 });
    const slow = (async () => {
      for (let i = 0; i < 3; i++) await bus.execute(tx(1, { minGapMs: 100 }));
    })();
    const fast = [2, 3].map(async (u) => {
      for (let i = 0; i < 6; i++) await bus.execute(tx(u));
    });
    await clock.until(Promise.all([slow, ...fast]));
    const mine = line.log.filter((t) => t.unitId === 1);
    expect(mine).toHaveLength(3);
    for (let i = 1; i < mine.length; i++)
      expect(mine[i]!.start - mine[i - 1]!.end).toBeGreaterThanOrEqual(100);
    expect(line.maxInFlight).toBe(2);
  });

  it('abandons every read on the wire and in the queue when closed', async () => {
    const { clock, bus, tx } = setup({ silenceMs: 0, maxInFlight: 3, units: 5 });
    const reads = [1, 2, 3, 4, 5].map((u) => codeOf(bus.execute(tx(u))));
    await clock.runFor(1);
    await bus.close();
    expect(await Promise.all(reads)).toEqual(Array<string>(5).fill('ACQ_ABORTED'));
    expect(bus.health().busyMs).toBeLessThanOrEqual(1);
  });
});

describe('bus timeouts, retries and counters', () => {
  it('retries a timeout once, then fails with TRANSPORT_TIMEOUT, and counts both attempts', async () => {
    const { clock, line, bus, tx } = setup();
    line.devices.get(2)!.silent = true;
    expect(await clock.until(codeOf(bus.execute(tx(2))))).toBe('TRANSPORT_TIMEOUT');
    expect(line.log.filter((t) => t.unitId === 2)).toHaveLength(2);
    const h = bus.deviceHealth('d2');
    expect(h).toMatchObject({
      requests: 2,
      replies: 0,
      timeouts: 2,
      retries: 1,
      lastErrorCode: 'TRANSPORT_TIMEOUT',
    });
    expect(bus.health()).toMatchObject({ timeouts: 2, requests: 2 });
  });

  it('recovers from one CRC error, garbled reply or busy exception by retrying', async () => {
    for (const fault of ['crc', 'bad-reply', { exception: 6 }, 'timeout'] as Fault[]) {
      const { clock, line, bus, tx } = setup();
      line.devices.get(1)!.faults = [fault];
      expect((await clock.until(bus.execute(tx(1))))[0]).toBe(100);
      expect(bus.deviceHealth('d1')).toMatchObject({ requests: 2, replies: 1, retries: 1 });
    }
  });

  it('does not retry a definite exception such as 02, and says which exception it was', async () => {
    const { clock, line, bus, tx } = setup();
    line.devices.get(1)!.faults = [{ exception: 2 }];
    const err = await clock.until(bus.execute(tx(1)).catch((e: unknown) => e));
    expect(isLantianError(err, 'MODBUS_EXCEPTION') && err.context.exceptionCode).toBe(2);
    expect(bus.deviceHealth('d1')).toMatchObject({ requests: 1, exceptions: 1, retries: 0 });
  });

  it('keeps latency percentiles and the time of the last good reply', async () => {
    const { clock, bus, tx } = setup();
    await clock.until(bus.execute(tx(1)));
    const h = bus.deviceHealth('d1');
    // (20 + 8) characters of 1.0417 ms + 10 ms turnaround
    expect(h.latencyMs?.p50).toBeCloseTo(39.17, 1);
    expect(h.lastGoodReplyTs).toBe(clock.now());
  });
});

describe('bus link recovery', () => {
  it('reconnects after the link drops mid-request; the cut request fails TRANSPORT_CLOSED', async () => {
    const { clock, line, bus, tx } = setup();
    await clock.until(bus.execute(tx(1)));
    const cut = codeOf(bus.execute(tx(1)));
    await clock.runFor(5);
    line.drop();
    expect(await clock.until(cut)).toBe('TRANSPORT_CLOSED');
    expect((await clock.until(bus.execute(tx(1))))[0]).toBe(100);
    expect(line.opens).toBe(2);
    expect(bus.health()).toMatchObject({ drops: 1, connects: 2, connected: true });
  });

  it('backs off after failed connects, failing fast meanwhile, then connects again', async () => {
    const { clock, line, bus, tx } = setup();
    line.refuseOpens = 2;
    expect(await clock.until(codeOf(bus.execute(tx(1))))).toBe('TRANSPORT_CONNECT_FAILED');
    // Inside the back-off: no connect attempt, an immediate TRANSPORT_CLOSED.
    const t0 = clock.monotonic();
    expect(await clock.until(codeOf(bus.execute(tx(1))))).toBe('TRANSPORT_CLOSED');
    expect(clock.monotonic()).toBe(t0);
    expect(line.opens).toBe(1);
    await clock.runFor(backoffMs(1, 200, 2000, () => 0.5));
    expect(await clock.until(codeOf(bus.execute(tx(1))))).toBe('TRANSPORT_CONNECT_FAILED');
    await clock.runFor(backoffMs(2, 200, 2000, () => 0.5));
    expect((await clock.until(bus.execute(tx(1))))[0]).toBe(100);
    expect(bus.health()).toMatchObject({ connectFailures: 2, connects: 1, linkErrors: 3 });
  });

  it('reopens the link after consecutive timeouts with no good reply between', async () => {
    const { clock, line, bus, tx } = setup({ recycleAfterTimeouts: 3 });
    line.devices.get(1)!.silent = true;
    await clock.until(codeOf(bus.execute(tx(1, { retries: 2 }))));
    expect(bus.health().recycles).toBe(1);
    line.devices.get(1)!.silent = false;
    expect((await clock.until(bus.execute(tx(1))))[0]).toBe(100);
    expect(line.opens).toBe(2);
  });

  it('abandons the read on the wire and the queued ones with ACQ_ABORTED when closed, and refuses new ones', async () => {
    const { clock, bus, tx } = setup();
    const a = codeOf(bus.execute(tx(1)));
    const b = codeOf(bus.execute(tx(2)));
    await clock.runFor(1);
    await bus.close();
    expect(await clock.until(b)).toBe('ACQ_ABORTED');
    // The link closed under it because the bus is closing: not a link failure.
    expect(await clock.until(a)).toBe('ACQ_ABORTED');
    expect(bus.health().linkErrors).toBe(0);
    expect(await codeOf(bus.execute(tx(3)))).toBe('ACQ_ABORTED');
  });

  it('keeps one listener on a long-lived abort signal, however many reads carry it', async () => {
    const { clock, bus, tx } = setup();
    const ac = new AbortController();
    for (let i = 0; i < 2000; i++) await clock.until(bus.execute(tx(1 + (i % 3), { signal: ac.signal })));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
  });

  it("abandons every queued read of an aborted signal and none of another's", async () => {
    const { clock, line, bus, tx } = setup();
    const mine = new AbortController();
    const other = new AbortController();
    const first = bus.execute(tx(1));
    const a = codeOf(bus.execute(tx(2, { signal: mine.signal })));
    const b = bus.execute(tx(3, { signal: other.signal }));
    const c = codeOf(bus.execute(tx(2, { signal: mine.signal })));
    mine.abort();
    expect(await clock.until(a)).toBe('ACQ_ABORTED');
    expect(await clock.until(c)).toBe('ACQ_ABORTED');
    await clock.until(first);
    await clock.until(b);
    expect(line.log.map((t) => t.unitId)).toEqual([1, 3]);
    // Aborting again, or a read refused for an aborted signal, adds no listener.
    await expect(bus.execute(tx(2, { signal: mine.signal }))).rejects.toThrow(/abandoned/);
    expect(getEventListeners(mine.signal, 'abort')).toHaveLength(0);
  });

  it('removes a read from the queue when its caller aborts', async () => {
    const { clock, line, bus, tx } = setup();
    const ac = new AbortController();
    const first = bus.execute(tx(1));
    const second = codeOf(bus.execute(tx(2, { signal: ac.signal })));
    ac.abort();
    expect(await clock.until(second)).toBe('ACQ_ABORTED');
    await clock.until(first);
    expect(line.log.map((t) => t.unitId)).toEqual([1]);
  });
});
