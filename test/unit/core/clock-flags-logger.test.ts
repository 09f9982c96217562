import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FLAG_PRECEDENCE,
  ManualClock,
  REDACT_PATHS,
  createLogger,
  isFlag,
  parsePointRef,
  silentLogger,
  systemClock,
  worstFlag,
} from '../../../gateway/src/core/index.js';

const sink = () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
};

describe('systemClock', () => {
  it('tells wall-clock time and a monotonic time that does not go back', async () => {
    const before = Date.now();
    const m0 = systemClock.monotonic();
    await systemClock.sleep(5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(before + 4);
    expect(systemClock.now()).toBeLessThan(before + 60_000);
    expect(systemClock.monotonic()).toBeGreaterThanOrEqual(m0 + 4);
  });

  it('sleeps for the time asked, not less', async () => {
    const t0 = performance.now();
    await systemClock.sleep(30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(28);
  });

  it('refuses to sleep when the signal is already aborted, with the abort reason', async () => {
    const ac = new AbortController();
    const reason = new Error('stopping');
    ac.abort(reason);
    await expect(systemClock.sleep(5_000, ac.signal)).rejects.toBe(reason);
  });

  it('wakes early with the abort reason when the signal aborts during the sleep', async () => {
    const ac = new AbortController();
    const reason = new Error('stopping');
    const t0 = performance.now();
    const slept = systemClock.sleep(5_000, ac.signal);
    setTimeout(() => ac.abort(reason), 5);
    await expect(slept).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(4_000);
  });

  it('stops listening to the signal once a sleep has ended', async () => {
    const ac = new AbortController();
    const remove = vi.spyOn(ac.signal, 'removeEventListener');
    await systemClock.sleep(1, ac.signal);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});

describe('ManualClock', () => {
  it('starts at 2026-01-01T00:00:00Z unless told otherwise, monotonic time at 0', () => {
    const clock = new ManualClock();
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(clock.monotonic()).toBe(0);
  });

  it('wakes each sleeper at its own time, so it sees the clock where it asked to wake', async () => {
    const clock = new ManualClock(1000);
    const seen: [number, number][] = [];
    void clock.sleep(10).then(() => seen.push([clock.now(), clock.monotonic()]));
    void clock.sleep(25).then(() => seen.push([clock.now(), clock.monotonic()]));
    await clock.advance(100);
    expect(seen).toEqual([
      [1010, 10],
      [1025, 25],
    ]);
    expect(clock.now()).toBe(1100);
    expect(clock.monotonic()).toBe(100);
  });

  it('wakes a sleeper whose time is exactly reached, and one a woken sleeper starts within the step', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    void clock.sleep(10).then(async () => {
      woke.push('first');
      await clock.sleep(5);
      woke.push('second');
    });
    await clock.advance(15);
    expect(woke).toEqual(['first', 'second']);
  });
});

describe('flags', () => {
  it('orders precedence B, D, F, M, C, S, T, N', () => {
    expect(FLAG_PRECEDENCE.join('')).toBe('BDFMCSTN');
  });

  it('lets each flag win over every flag after it', () => {
    for (let i = 0; i < FLAG_PRECEDENCE.length; i++) {
      for (let j = i; j < FLAG_PRECEDENCE.length; j++) {
        expect(worstFlag([FLAG_PRECEDENCE[j]!, FLAG_PRECEDENCE[i]!])).toBe(FLAG_PRECEDENCE[i]);
      }
    }
    expect(worstFlag(['N'])).toBe('N');
  });

  it('refuses what is not a flag: other types, and names an object inherits', () => {
    const named = { toString: () => 'N' };
    for (const v of [1, null, undefined, {}, named, 'NN', '', 'toString', 'constructor', '__proto__'])
      expect(isFlag(v), JSON.stringify(v) ?? 'undefined').toBe(false);
  });
});

describe('point references', () => {
  it('splits at the first slash, so a point key may hold one', () => {
    expect(parsePointRef('d/a/b')).toEqual({ device: 'd', point: 'a/b' });
    expect(parsePointRef('d/p')).toEqual({ device: 'd', point: 'p' });
  });
});

describe('logger', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('logs at info by default, named lantian, and drops debug lines', () => {
    vi.stubEnv('LANTIAN_LOG_LEVEL', undefined);
    const s = sink();
    const log = createLogger({}, s.stream);
    log.debug('hidden');
    log.info('shown');
    expect(s.entries().map((e) => [e.msg, e.name])).toEqual([['shown', 'lantian']]);
  });

  it('takes its level from LANTIAN_LOG_LEVEL when none is given, and an explicit level over it', () => {
    vi.stubEnv('LANTIAN_LOG_LEVEL', 'debug');
    const s = sink();
    createLogger({ name: 'sim' }, s.stream).debug('visible');
    createLogger({ level: 'warn' }, s.stream).info('hidden');
    expect(s.entries().map((e) => [e.msg, e.name])).toEqual([['visible', 'sim']]);
  });

  it('redacts every secret-like key at the top level and up to two levels down', () => {
    const keys = ['password', 'secret', 'token', 'key', 'privateKey', 'passphrase', 'pw'];
    expect(REDACT_PATHS).toHaveLength(keys.length * 2 + 1);
    const s = sink();
    const log = createLogger({}, s.stream);
    const at = (k: string) => ({
      [k]: `v-${k}`,
      a: { [k]: `v-${k}`, b: { [k]: k === 'password' ? 'v' : 'ok' } },
    });
    for (const k of keys) log.info(at(k), k);
    for (const e of s.entries()) {
      const k = e.msg as string;
      const a = e.a as Record<string, unknown> & { b: Record<string, unknown> };
      expect(e[k], k).toBe('[redacted]');
      expect(a[k], k).toBe('[redacted]');
      expect(a.b[k], k).toBe(k === 'password' ? '[redacted]' : 'ok');
    }
  });

  it('has a silent logger that writes nothing at any level', () => {
    expect(silentLogger.level).toBe('silent');
    expect(silentLogger.isLevelEnabled('fatal')).toBe(false);
  });
});
