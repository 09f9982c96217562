import { describe, expect, it } from 'vitest';
import { LantianError } from '../../../gateway/src/core/errors.js';
import type { Profile, ResolvedPoint, StatusMappingSpec } from '../../../gateway/src/profiles/schema.js';
import { conditionHolds } from '../../../gateway/src/acquisition/status.js';
import {
  cycleOutcomes,
  planDevice,
  polledPoints,
  toDrafts,
  type ReadResult,
} from '../../../gateway/src/acquisition/device.js';
import { serialCost } from '../../../gateway/src/acquisition/planner.js';
import { resolvedPoint } from '../../helpers/resolved-point.js';

function pt(key: string, pdu: number, over: Partial<ResolvedPoint> = {}): ResolvedPoint {
  return resolvedPoint({ key, pdu, type: 'u16', count: 1, ...over });
}

/** A small SCS-900UV-like device: a fault/calibration register, a maintenance register, two values. */
function analyzer(status: StatusMappingSpec[]): Profile {
  return {
    id: 'test.analyzer',
    vendor: 't',
    model: 't',
    category: 'cems',
    sources: ['test'],
    serial: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1, unitId: 1 },
    quirks: {
      minGapMs: 0,
      maxReadRegisters: 125,
      maxReadBits: 2000,
      bootDelayMs: 0,
      turnaroundMs: 10,
      timeoutMs: 500,
    },
    points: [
      pt('fault', 10, { type: 'bits', bits: { bit: 8, width: 8 }, role: 'status' }),
      pt('cal', 10, { type: 'bits', bits: { bit: 0, width: 8 }, role: 'status' }),
      pt('maint', 11, { role: 'status' }),
      pt('so2', 12, { range: [0, 100] }),
      pt('no', 13),
      pt('serial_no', 200, { role: 'info' }),
    ],
    status,
    unreadable: [],
    examples: [],
    file: 'test.yaml',
  };
}

const mappings: StatusMappingSpec[] = [
  { source: 'fault', when: 'nonzero', flag: 'D' },
  { source: 'cal', when: { notEquals: 1 }, flag: 'C' },
  { source: 'maint', when: 'nonzero', flag: 'M', points: ['so2'] },
];

function run(profile: Profile, words: number[] | LantianError) {
  const points = polledPoints(profile);
  const reads = planDevice(profile, points, serialCost({ baud: 9600 }, 10));
  const results: ReadResult[] = reads.map(() =>
    words instanceof LantianError ? { ok: false, error: words, ts: 5 } : { ok: true, data: words, ts: 5 },
  );
  return Object.fromEntries(
    toDrafts('dev', cycleOutcomes(profile, points, reads, results)).map((d) => [d.point, d]),
  );
}

describe('status conditions', () => {
  it('evaluates every condition kind, bit tests on the integer part', () => {
    expect(conditionHolds('nonzero', 2)).toBe(true);
    expect(conditionHolds('zero', 0)).toBe(true);
    expect(conditionHolds({ equals: 3 }, 3)).toBe(true);
    expect(conditionHolds({ notEquals: 1 }, 1)).toBe(false);
    expect(conditionHolds({ bitSet: 5 }, 0x20)).toBe(true);
    expect(conditionHolds({ bitSet: 5 }, 33.0)).toBe(true); // status sent as a float
    expect(conditionHolds({ bitSet: 4 }, 0x20)).toBe(false);
    expect(conditionHolds({ anyBits: 0xe0 }, 0x41)).toBe(true);
    expect(conditionHolds({ anyBits: 0xe0 }, 0x11)).toBe(false);
  });
});

describe('flags on a cycle', () => {
  it('polls measurement and status points, not info points', () => {
    expect(polledPoints(analyzer(mappings)).map((p) => p.key)).toEqual([
      'fault',
      'cal',
      'maint',
      'so2',
      'no',
    ]);
  });

  it('reports N when the status registers say all is well', () => {
    const r = run(analyzer(mappings), [0x0001, 0, 42, 7]);
    expect(r.so2).toMatchObject({ value: 42, flag: 'N', raw: [42], ts: 5 });
    expect(r.no).toMatchObject({ value: 7, flag: 'N' });
  });

  it('maps a fault byte to D on every measurement and hides calibration behind it', () => {
    const r = run(analyzer(mappings), [0x0200, 0, 42, 7]);
    expect(r.so2).toMatchObject({ flag: 'D', quality: ['device_status'] });
    expect(r.no).toMatchObject({ flag: 'D' });
  });

  it('applies a mapping only to the points it names', () => {
    const r = run(analyzer(mappings), [0x0001, 1, 42, 7]);
    expect(r.so2!.flag).toBe('M');
    expect(r.no!.flag).toBe('N');
  });

  it('flags values above the measuring range T', () => {
    const r = run(analyzer(mappings), [0x0001, 0, 101, 7]);
    expect(r.so2).toMatchObject({ value: 101, flag: 'T', quality: ['out_of_range'] });
  });

  it('gives every point of a failed read B with value null, and the reason', () => {
    const r = run(analyzer(mappings), new LantianError('TRANSPORT_TIMEOUT', 'no answer'));
    for (const k of ['fault', 'cal', 'maint', 'so2', 'no']) {
      expect(r[k]).toMatchObject({ value: null, flag: 'B', quality: ['timeout'], ts: 5 });
      expect(r[k]!.raw).toBeUndefined();
    }
    const crc = run(analyzer(mappings), new LantianError('MODBUS_CRC', 'bad crc'));
    expect(crc.so2).toMatchObject({ flag: 'B', quality: ['crc_error'] });
  });

  it('refuses an unknown point key with ACQ_OPTIONS_INVALID', () => {
    expect(() => polledPoints(analyzer(mappings), ['so3'])).toThrowError(
      expect.objectContaining({ code: 'ACQ_OPTIONS_INVALID' }),
    );
  });
});
