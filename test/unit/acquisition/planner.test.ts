import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { loadProfileFile } from '../../../gateway/src/profiles/index.js';
import {
  planCostMs,
  planReads,
  requestCostMs,
  serialCost,
  tcpCost,
  type FunctionCode,
  type PlanLimits,
  type PlanPoint,
  type PlannedRead,
  type RequestCost,
  type UnreadableRange,
} from '../../../gateway/src/acquisition/planner.js';
import { planDevice, polledPoints } from '../../../gateway/src/acquisition/device.js';

const line9600 = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
const cost9600 = serialCost(line9600, 10);
const limits = (over: Partial<PlanLimits> = {}): PlanLimits => ({
  maxReadRegisters: 125,
  maxReadBits: 2000,
  unreadable: [],
  ...over,
});
const f32 = (key: string, pdu: number): PlanPoint => ({ key, function: 3, pdu, count: 2 });
const bench = loadProfileFile(
  fileURLToPath(new URL('../../fixtures/acquisition/profiles/bench/cems-10f.yaml', import.meta.url)),
);

const shape = (reads: PlannedRead[]) => reads.map((r) => [r.function, r.address, r.count]);

describe('planner cost model on the reference 9600 8N1 bus', () => {
  it('reads the reference analyzer in two requests, 0-11 and 100-107, costing 103.3 ms', () => {
    const reads = planDevice(bench, polledPoints(bench), cost9600);
    expect(shape(reads)).toEqual([
      [3, 0, 12],
      [3, 100, 8],
    ]);
    expect(planCostMs(cost9600, reads) * 3).toBeCloseTo(310, 0);
  });

  it('prices the alternatives as the wire model does: one per point 1050 ms, over-merged 767.5 ms', () => {
    const perPoint = 10 * requestCostMs(cost9600, 3, 2) * 3;
    const overMerged = requestCostMs(cost9600, 3, 108) * 3;
    expect(perPoint).toBeCloseTo(1050, 0);
    expect(overMerged).toBeCloseTo(767.5, 0);
  });

  it('fills a gap exactly when g < 10 + turnaround / (2 x character time)', () => {
    // 10 + 10 / (2 x 1.0417) = 14.8 registers
    const merged = planReads([f32('a', 0), f32('b', 2 + 14)], limits(), cost9600);
    const split = planReads([f32('a', 0), f32('b', 2 + 15)], limits(), cost9600);
    expect(shape(merged)).toEqual([[3, 0, 18]]);
    expect(merged[0]!.gapFilled).toBe(true);
    expect(shape(split)).toEqual([
      [3, 0, 2],
      [3, 17, 2],
    ]);
  });

  it('merges almost anything within the read limit over Modbus TCP, where requests cost a round trip', () => {
    const reads = planReads([f32('a', 0), f32('b', 100)], limits(), tcpCost(10));
    expect(shape(reads)).toEqual([[3, 0, 102]]);
  });

  it('keeps touching points together but no gaps when gap filling is off', () => {
    const pts = [f32('a', 0), f32('b', 2), f32('c', 6)];
    expect(shape(planReads(pts, limits(), cost9600, { fillGaps: false }))).toEqual([
      [3, 0, 4],
      [3, 6, 2],
    ]);
  });
});

describe('planner limits and errors', () => {
  it('splits at the device largest read', () => {
    const pts = Array.from({ length: 8 }, (_, i) => f32(`p${i}`, i * 2));
    const reads = planReads(pts, limits({ maxReadRegisters: 6 }), cost9600);
    expect(shape(reads)).toEqual([
      [3, 0, 6],
      [3, 6, 6],
      [3, 12, 4],
    ]);
  });

  it('never reads across an unreadable range even when merging would be cheaper', () => {
    const unreadable: UnreadableRange[] = [{ function: 3, start: 3, end: 3 }];
    const reads = planReads([f32('a', 0), f32('b', 4)], limits({ unreadable }), cost9600);
    expect(shape(reads)).toEqual([
      [3, 0, 2],
      [3, 4, 2],
    ]);
  });

  it('keeps function codes apart and prices bit reads by bytes', () => {
    const pts: PlanPoint[] = [
      { key: 'run', function: 2, pdu: 0, count: 1 },
      { key: 'cal', function: 2, pdu: 60, count: 1 },
      f32('conc', 0),
      { key: 'coil', function: 1, pdu: 5, count: 1 },
    ];
    expect(shape(planReads(pts, limits(), cost9600))).toEqual([
      [1, 5, 1],
      [2, 0, 61],
      [3, 0, 2],
    ]);
  });

  it('fails with ACQ_PLAN when a point is longer than the largest read or lies in an unreadable range', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return undefined;
      } catch (e) {
        return isLantianError(e) ? e.code : 'other';
      }
    };
    expect(code(() => planReads([f32('a', 0)], limits({ maxReadRegisters: 1 }), cost9600))).toBe('ACQ_PLAN');
    const unreadable: UnreadableRange[] = [{ function: 3, start: 1, end: 1 }];
    expect(code(() => planReads([f32('a', 0)], limits({ unreadable }), cost9600))).toBe('ACQ_PLAN');
  });
});

// ---- properties ----------------------------------------------------------------------------

interface Case {
  points: PlanPoint[];
  limits: PlanLimits;
  cost: RequestCost;
}

function caseArb(maxAddress: number, maxPoints: number): fc.Arbitrary<Case> {
  const fnArb = fc.constantFrom<FunctionCode>(1, 2, 3, 4);
  const pointArb = fc.record({
    function: fnArb,
    pdu: fc.integer({ min: 0, max: maxAddress }),
    count: fc.integer({ min: 1, max: 4 }),
  });
  const rangeArb = fc.record({
    function: fnArb,
    start: fc.integer({ min: 0, max: maxAddress }),
    len: fc.integer({ min: 1, max: 6 }),
  });
  return fc
    .record({
      points: fc.array(pointArb, { minLength: 1, maxLength: maxPoints }),
      ranges: fc.array(rangeArb, { maxLength: 3 }),
      maxReadRegisters: fc.integer({ min: 4, max: 125 }),
      maxReadBits: fc.integer({ min: 4, max: 64 }),
      requestMs: fc.double({ min: 0.5, max: 80, noNaN: true }),
      byteMs: fc.double({ min: 0.0001, max: 3, noNaN: true }),
    })
    .map((r) => {
      const unreadable = r.ranges.map((x) => ({
        function: x.function,
        start: x.start,
        end: x.start + x.len - 1,
      }));
      // Keep only points a device could read at all: outside every unreadable range.
      const points = r.points
        .filter(
          (p) =>
            !unreadable.some(
              (u) => u.function === p.function && u.start <= p.pdu + p.count - 1 && p.pdu <= u.end,
            ),
        )
        .map((p, i) => ({ ...p, key: `p${i}` }));
      return {
        points: points.length > 0 ? points : [{ key: 'p0', function: 3 as const, pdu: 0, count: 1 }],
        limits: {
          maxReadRegisters: r.maxReadRegisters,
          maxReadBits: r.maxReadBits,
          unreadable: points.length > 0 ? unreadable : [],
        },
        cost: { requestMs: r.requestMs, byteMs: r.byteMs },
      };
    });
}

function maxOf(l: PlanLimits, fn: FunctionCode): number {
  return fn <= 2 ? l.maxReadBits : l.maxReadRegisters;
}

type Span = { function: FunctionCode; address: number; count: number };
const contains = (r: Span, p: PlanPoint) =>
  r.function === p.function && r.address <= p.pdu && p.pdu + p.count <= r.address + r.count;
const overlap = (p: PlanPoint, q: PlanPoint) =>
  p.function === q.function && p.pdu < q.pdu + q.count && q.pdu < p.pdu + p.count;

/** The planner's contract: limits, forbidden ranges, every point whole, overlapping points together. */
function isValid(c: Case, reads: readonly Span[]): boolean {
  for (const r of reads) {
    if (r.count < 1 || r.count > maxOf(c.limits, r.function)) return false;
    const end = r.address + r.count - 1;
    if (c.limits.unreadable.some((u) => u.function === r.function && u.start <= end && r.address <= u.end))
      return false;
  }
  return c.points.every(
    (p) =>
      reads.some((r) => contains(r, p)) &&
      c.points.every((q) => !overlap(p, q) || reads.some((r) => contains(r, p) && contains(r, q))),
  );
}

/** Whether a chain of overlapping points is longer than the largest read (then nothing is valid). */
function hasOverlongChain(c: Case): boolean {
  for (const fn of [1, 2, 3, 4] as const) {
    const pts = c.points.filter((p) => p.function === fn).sort((a, b) => a.pdu - b.pdu);
    let start = -1;
    let end = -2;
    for (const p of pts) {
      if (p.pdu > end) start = p.pdu;
      end = Math.max(end, p.pdu + p.count - 1);
      if (end - start + 1 > maxOf(c.limits, fn)) return true;
    }
  }
  return false;
}

/** Plans, or returns undefined when the planner rightly refused an impossible case. */
function planOrRefuse(c: Case): PlannedRead[] | undefined {
  try {
    return planReads(c.points, c.limits, c.cost);
  } catch (e) {
    expect(isLantianError(e, 'ACQ_PLAN')).toBe(true);
    expect(hasOverlongChain(c)).toBe(true);
    return undefined;
  }
}

/**
 * Reference optimum by exhaustive search over sets of requests whose start is some point's
 * start and whose end is some point's end (any optimal plan can be shrunk to that form).
 */
function bruteForceCost(c: Case): number {
  const candidates: { function: FunctionCode; address: number; count: number; cost: number }[] = [];
  for (const a of c.points) {
    for (const b of c.points) {
      const end = b.pdu + b.count - 1;
      if (a.function !== b.function || end < a.pdu) continue;
      const r = { function: a.function, address: a.pdu, count: end - a.pdu + 1 };
      if (!isValid({ ...c, points: [] }, [r])) continue;
      if (
        !candidates.some((x) => x.function === r.function && x.address === r.address && x.count === r.count)
      ) {
        candidates.push({ ...r, cost: requestCostMs(c.cost, r.function, r.count) });
      }
    }
  }
  let best = Infinity;
  const chosen: typeof candidates = [];
  const search = (i: number, cost: number): void => {
    if (cost >= best) return;
    if (isValid(c, chosen)) {
      best = cost;
      return;
    }
    if (i >= candidates.length || chosen.length >= c.points.length) return;
    chosen.push(candidates[i]!);
    search(i + 1, cost + candidates[i]!.cost);
    chosen.pop();
    search(i + 1, cost);
  };
  search(0, 0);
  return best;
}

describe('planner properties (fast-check)', () => {
  it('covers every point whole, stays within the limits, never reads a forbidden address', () => {
    fc.assert(
      fc.property(caseArb(300, 40), (c) => {
        const reads = planOrRefuse(c);
        if (!reads) return;
        expect(isValid(c, reads)).toBe(true);
        for (const p of c.points) expect(reads.some((r) => r.keys.includes(p.key))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never needs more requests than one per point', () => {
    fc.assert(
      fc.property(caseArb(300, 40), (c) => {
        expect(planOrRefuse(c)?.length ?? 0).toBeLessThanOrEqual(c.points.length);
      }),
    );
  });

  it('is deterministic: the same points in any order give the same plan', () => {
    fc.assert(
      fc.property(
        caseArb(200, 30).chain((c) =>
          fc.tuple(fc.constant(c), fc.shuffledSubarray(c.points, { minLength: c.points.length })),
        ),
        ([c, shuffled]) => {
          const reads = planOrRefuse(c);
          if (reads) expect(planReads(shuffled, c.limits, c.cost)).toEqual(reads);
        },
      ),
    );
  });

  it('is optimal: its cost equals an exhaustive search on small inputs', () => {
    fc.assert(
      fc.property(caseArb(40, 6), (c) => {
        const reads = planOrRefuse(c);
        if (!reads) return;
        expect(planCostMs(c.cost, reads)).toBeCloseTo(bruteForceCost(c), 6);
      }),
      { numRuns: 300 },
    );
  });
});
