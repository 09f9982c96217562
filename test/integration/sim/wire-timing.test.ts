/**
 * The RTU buses follow the serial wire-time model: measured over many transactions, from the
 * client side and from the simulator's own counters, at 9600 8N1. Medians and ratios keep the
 * test steady on a shared, noisy machine.
 */
import { describe, expect, it } from 'vitest';
import { transactionWireTimeMs, replyDelayMs, type LineSettings } from '../../../hardware-sim/src/index.js';
import { bus, rawPty, rawTcp, rtu, sim, useCleanup, type RawLink } from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

useCleanup();

const LINE: LineSettings = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
const TURNAROUND = 5;
const N = 10;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const scenario = (kind: 'rtu-tcp' | 'pty') => ({
  buses: [{ name: 'b', kind, line: LINE }],
  devices: [{ id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'b', turnaroundMs: TURNAROUND }],
});

/**
 * FC03 reads of N registers. Back to back, the reply-to-reply period is one whole transaction;
 * spaced out (`gapMs` of idle line first), request-to-reply latency is the reply delay alone.
 */
async function poll(link: RawLink, count: number, gapMs: number) {
  const request = rtu(`01 03 000C ${N.toString(16).padStart(4, '0')}`);
  const latencies: number[] = [];
  const periods: number[] = [];
  let lastReply: number | undefined;
  for (let i = 0; i < count; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const sent = performance.now();
    link.send(request);
    const reply = await link.receive(5 + 2 * N, 2000);
    const now = performance.now();
    expect(reply.length).toBe(5 + 2 * N);
    latencies.push(now - sent);
    if (lastReply !== undefined) periods.push(now - lastReply);
    lastReply = now;
  }
  return { latencies, periods };
}

describe('serial wire-time model on RTU buses at 9600 8N1', () => {
  it('serves 120 FC03 transactions over RTU-over-TCP in the time the model gives, within 3 %', async () => {
    const s = await sim(scenario('rtu-tcp'));
    const link = await rawTcp(bus(s, 'b').port!);
    const { periods } = await poll(link, 70, 0);
    const { latencies } = await poll(link, 50, 10);
    const modelLatency = replyDelayMs(8, 5 + 2 * N, LINE, TURNAROUND);
    const modelPeriod = transactionWireTimeMs(8, 5 + 2 * N, LINE, TURNAROUND);
    // (20 + 2N) characters of 1.0417 ms plus the turnaround.
    expect(modelPeriod).toBeCloseTo((20 + 2 * N) * (10 / 9.6) + TURNAROUND, 6);

    // The simulator times its own replies: the median transaction took its modelled time to 3 %.
    const stats = s.stats('b');
    const simRatio = (modelLatency + stats.replyLateMs.median) / modelLatency;
    const seen = JSON.stringify({
      simRatio,
      latency: median(latencies) / modelLatency,
      period: median(periods) / modelPeriod,
      late: stats.replyLateMs,
    });
    expect(simRatio, seen).toBeLessThan(1.03);
    // Seen from the client (through the loopback and a shared machine's scheduler): a few percent.
    expect(median(latencies) / modelLatency, seen).toBeGreaterThan(0.97);
    expect(median(latencies) / modelLatency, seen).toBeLessThan(1.05);
    // Back to back, the next request waits for the closing silence: one reply per transaction time.
    expect(median(periods) / modelPeriod, seen).toBeGreaterThan(0.97);
    expect(median(periods) / modelPeriod, seen).toBeLessThan(1.05);

    expect(stats.transactions).toBe(120);
    expect(stats.bytesIn).toBe(120 * 8);
    expect(stats.bytesOut).toBe(120 * (5 + 2 * N));
    expect(stats.modelMs).toBeCloseTo(120 * modelPeriod, 6);
    // Measured busy time includes the odd stall of the machine, so it may only exceed the model.
    expect(stats.busyMs / stats.modelMs, seen).toBeGreaterThan(0.99);
    expect(stats.theoreticalMaxRate).toBeCloseTo(1000 / modelPeriod, 6);
    expect(stats.efficiency).toBeGreaterThan(0.3);
    expect(stats.efficiency).toBeLessThanOrEqual(1.001);
  }, 30_000);

  requireTool('socat').it(
    'applies the same timing on a pty',
    async () => {
      const s = await sim(scenario('pty'));
      const link = await rawPty(bus(s, 'b').path!);
      const { latencies } = await poll(link, 40, 10);
      const modelLatency = replyDelayMs(8, 5 + 2 * N, LINE, TURNAROUND);
      const stats = s.stats('b');
      const simRatio = (modelLatency + stats.replyLateMs.median) / modelLatency;
      const clientRatio = median(latencies) / modelLatency;
      const seen = JSON.stringify({ simRatio, clientRatio, late: stats.replyLateMs });
      expect(simRatio, seen).toBeLessThan(1.03);
      // socat relays every byte between the two ptys: two more processes to schedule, so the
      // client's view is only checked for sense.
      expect(clientRatio, seen).toBeGreaterThan(0.97);
      expect(clientRatio, seen).toBeLessThan(1.5);
      expect(stats.busyMs / stats.modelMs, seen).toBeGreaterThan(0.99);
    },
    30_000,
  );

  it('serves one transaction at a time: a request that arrives while the bus is busy waits', async () => {
    const s = await sim(scenario('rtu-tcp'));
    const a = await rawTcp(bus(s, 'b').port!);
    const b = await rawTcp(bus(s, 'b').port!);
    const request = rtu('01 03 000C 000A');
    const t0 = performance.now();
    a.send(request);
    b.send(request);
    const [ra, rb] = await Promise.all([
      a.receive(25, 2000).then((r) => ({ r, t: performance.now() - t0 })),
      b.receive(25, 2000).then((r) => ({ r, t: performance.now() - t0 })),
    ]);
    expect(ra.r.length).toBe(25);
    expect(rb.r.length).toBe(25);
    const period = transactionWireTimeMs(8, 25, LINE, TURNAROUND);
    const delay = replyDelayMs(8, 25, LINE, TURNAROUND);
    const [first, second] = [ra.t, rb.t].sort((x, y) => x - y);
    // The second request waits for the whole first transaction: its reply comes a transaction
    // later than the first one's (a late first reply can only shorten the gap, never the wait).
    expect(first).toBeGreaterThan(0.97 * delay);
    expect(second).toBeGreaterThan(0.97 * (period + delay));
    expect(s.stats('b').transactions).toBe(2);
  });
});
