import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  createLogger,
  childLogger,
  parsePointRef,
  pointRef,
  worstFlag,
  isFlag,
} from '../../../gateway/src/core/index.js';
import { missedTimes, sameOrNewMissed } from '../../../gateway/src/core/reading.js';

describe('flags', () => {
  it('picks the most serious flag when several apply', () => {
    expect(worstFlag(['N', 'C', 'M'])).toBe('M');
    expect(worstFlag(['C', 'B', 'D'])).toBe('B');
    expect(worstFlag(['T', 'N'])).toBe('T');
    expect(worstFlag([])).toBe('N');
  });

  it('knows the eight HJ 212 flags and nothing else', () => {
    for (const f of 'NFMSDCTB') expect(isFlag(f)).toBe(true);
    expect(isFlag('X')).toBe(false);
    expect(isFlag('n')).toBe(false);
  });
});

describe('point references', () => {
  it('round-trips device/point and rejects malformed references', () => {
    expect(parsePointRef(pointRef('stack1-uv', 'so2'))).toEqual({ device: 'stack1-uv', point: 'so2' });
    expect(parsePointRef('nodevice')).toBeUndefined();
    expect(parsePointRef('/so2')).toBeUndefined();
    expect(parsePointRef('dev/')).toBeUndefined();
  });
});

describe('missed slots', () => {
  it('gives the due time of each missed slot, one period apart, oldest first', () => {
    expect(missedTimes({ slots: 1, from: 5000, periodMs: 100 })).toEqual([5000]);
    expect(missedTimes({ slots: 4, from: 1_767_225_600_000, periodMs: 250 })).toEqual([
      1_767_225_600_000, 1_767_225_600_250, 1_767_225_600_500, 1_767_225_600_750,
    ]);
  });
});

describe('the missed slots of a poll', () => {
  it('keeps the slots before when all three numbers match, and makes new ones otherwise', () => {
    const before = { slots: 3, from: 1000, periodMs: 100 };
    expect(sameOrNewMissed(before, 3, 1000, 100)).toBe(before);
    for (const [slots, from, periodMs] of [
      [4, 1000, 100],
      [3, 1100, 100],
      [3, 1000, 250],
    ] as const) {
      const made = sameOrNewMissed(before, slots, from, periodMs);
      expect(made).not.toBe(before);
      expect(made).toEqual({ slots, from, periodMs });
    }
    expect(sameOrNewMissed(undefined, 1, 2, 3)).toEqual({ slots: 1, from: 2, periodMs: 3 });
    expect(sameOrNewMissed(null, 1, 2, 3)).toEqual({ slots: 1, from: 2, periodMs: 3 });
  });
});

describe('ManualClock', () => {
  it('wakes sleepers in time order and only when time has passed', async () => {
    const clock = new ManualClock(0);
    const woke: number[] = [];
    void clock.sleep(30).then(() => woke.push(30));
    void clock.sleep(10).then(() => woke.push(10));
    await clock.advance(5);
    expect(woke).toEqual([]);
    await clock.advance(30);
    expect(woke).toEqual([10, 30]);
    expect(clock.now()).toBe(35);
    expect(clock.monotonic()).toBe(35);
  });
});

describe('logger', () => {
  it('writes namespaced JSON lines and redacts secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = childLogger(createLogger({ level: 'info' }, sink), 'mqtt', { uplink: 'central' });
    log.info(
      { password: 'hunter2', tls: { key: '/etc/lantian/key.pem' }, broker: 'mqtts://x' },
      'connecting',
    );
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ ns: 'mqtt', uplink: 'central', msg: 'connecting', broker: 'mqtts://x' });
    expect(entry.password).toBe('[redacted]');
    expect(entry.tls.key).toBe('[redacted]');
    expect(lines.join('')).not.toContain('hunter2');
  });
});
