import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  findZone,
  isTimeZone,
  parseTzif,
  readZoneTable,
  tableOffset,
  zoneDir,
  zoneOf,
} from '../../../gateway/src/core/zone.js';

const HOUR = 3_600_000;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * Local minus UTC at `ms` as Intl (ICU) names it, the oracle: the offset in the zone's name
 * ("GMT+05:45"), a different road from the fields the fallback in zone.ts reads.
 */
function intlOffset(zone: string, ms: number): number {
  let f = formats.get(zone);
  if (!f)
    formats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (!m) throw new Error(`unexpected offset name ${name}`);
  const size = (Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * 1000;
  return m[1] === '-' ? -size : size;
}

interface Spec {
  version?: 1 | 2;
  /** [UTC seconds, offset seconds] transitions, ascending. */
  transitions?: [number, number][];
  /** Offset of time type 0, in force before the first transition. */
  initial: number;
  footer?: string;
  leapSeconds?: boolean;
  /** Standard/wall and UT/local indicators, one of each per type (older zic writes them). */
  indicators?: boolean;
}

/** A TZif file as zic writes one (RFC 8536): types deduplicated, version 2 with a footer. */
function tzif(spec: Spec): Buffer {
  const offsets = [spec.initial, ...(spec.transitions ?? []).map(([, o]) => o)];
  const types = [...new Set(offsets)];
  const trans = spec.transitions ?? [];
  const leap = spec.leapSeconds ? 1 : 0;
  const indicators = spec.indicators ? types.length : 0;
  const block = (timeBytes: 4 | 8): Buffer => {
    const header = Buffer.alloc(44);
    header.write('TZif', 0, 'latin1');
    header[4] = spec.version === 1 ? 0 : 0x32;
    header.writeUInt32BE(indicators, 20); // isutcnt
    header.writeUInt32BE(indicators, 24); // isstdcnt
    header.writeUInt32BE(leap, 28);
    header.writeUInt32BE(trans.length, 32);
    header.writeUInt32BE(types.length, 36);
    header.writeUInt32BE(4, 40); // charcnt: "ZZZ\0"
    // The indicators come last, zero (wall time, local time) as the buffer is made.
    const body = Buffer.alloc(
      trans.length * (timeBytes + 1) + types.length * 6 + 4 + leap * (timeBytes + 4) + 2 * indicators,
    );
    let at = 0;
    for (const [t] of trans) {
      if (timeBytes === 8) body.writeBigInt64BE(BigInt(t), at);
      else body.writeInt32BE(t, at);
      at += timeBytes;
    }
    for (const [, o] of trans) body[at++] = types.indexOf(o);
    for (const o of types) {
      body.writeInt32BE(o, at);
      at += 6;
    }
    body.write('ZZZ\0', at, 'latin1');
    return Buffer.concat([header, body]);
  };
  if (spec.version === 1) return block(4);
  return Buffer.concat([block(4), block(8), Buffer.from(`\n${spec.footer ?? ''}\n`, 'latin1')]);
}

const dir = mkdtempSync(join(tmpdir(), 'lantian-zone-'));
const put = (name: string, bytes: Buffer) => {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), bytes);
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('time zones from the zone database', () => {
  it('agrees with Intl for zones with half hours, 45 minutes, DST and abolished DST, 1970 to 2060', () => {
    const zones = [
      'Asia/Shanghai',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'America/New_York',
      'Europe/Berlin',
      'America/Sao_Paulo',
      'Pacific/Apia',
      'America/St_Johns',
    ];
    for (const name of zones) {
      const zone = findZone(name)!;
      expect(zone.name).toBe(name);
      const wrong: string[] = [];
      const at = (t: number) => {
        if (zone.offsetMs(t) !== intlOffset(name, t)) wrong.push(new Date(t).toISOString());
      };
      for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2060, 0, 1); t += 37 * HOUR + 7_777) at(t);
      // Either side of every transition the database lists (none where it is not installed).
      for (const s of readZoneTable(name)?.times ?? []) {
        if (s < 0 || s > Date.UTC(2060, 0, 1) / 1000) continue;
        at(s * 1000 - 1);
        at(s * 1000);
      }
      expect(wrong, name).toEqual([]);
    }
  });

  it('reads the offsets from the file, not from Intl: a zone Intl has never heard of', () => {
    put('Test/Plus3', tzif({ initial: 3 * 3600, footer: '<+03>-3' }));
    put('Test/Minus545', tzif({ initial: -(5 * 3600 + 45 * 60), footer: '<-0545>5:45' }));
    const plus3 = findZone('Test/Plus3', dir)!;
    expect(plus3.offsetMs(Date.UTC(2026, 5, 1))).toBe(3 * HOUR);
    expect(plus3.offsetMs(Date.UTC(2090, 5, 1))).toBe(3 * HOUR);
    expect(findZone('Test/Minus545', dir)!.offsetMs(0)).toBe(-(5 * HOUR + 45 * 60_000));
    // The same name under the system's database is unknown everywhere.
    expect(findZone('Test/Plus3')).toBeUndefined();
    expect(isTimeZone('Test/Plus3')).toBe(false);
  });

  it('makes no Intl.DateTimeFormat for what a file answers (ICU data costs the daemon 8 MB)', () => {
    put('Test/Quiet', tzif({ initial: 3600, transitions: [[0, 7200]], footer: 'QQQ-2' }));
    const spy = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      const z = findZone('Test/Quiet', dir)!;
      expect(z.offsetMs(-1000)).toBe(HOUR);
      expect(z.offsetMs(Date.UTC(2026, 0, 1))).toBe(2 * HOUR);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('follows transitions: before the first, between, on the second, and the fixed footer after', () => {
    const t0 = 1_000_000_000;
    const t1 = 1_500_000_000;
    const file = tzif({
      initial: 3600,
      transitions: [
        [t0, 7200],
        [t1, 10800],
      ],
      footer: 'XYZ-3',
    });
    put('Test/Steps', file);
    put(
      'Test/StepsV1',
      tzif({
        version: 1,
        initial: 3600,
        transitions: [
          [t0, 7200],
          [t1, 10800],
        ],
      }),
    );
    for (const name of ['Test/Steps', 'Test/StepsV1']) {
      const z = findZone(name, dir)!;
      expect(z.offsetMs(t0 * 1000 - 1)).toBe(HOUR);
      expect(z.offsetMs(t0 * 1000)).toBe(2 * HOUR);
      expect(z.offsetMs(t1 * 1000 - 1)).toBe(2 * HOUR);
      expect(z.offsetMs(t1 * 1000)).toBe(3 * HOUR);
      expect(z.offsetMs(t1 * 1000 + 100 * 365 * 24 * HOUR)).toBe(3 * HOUR);
    }
    expect(parseTzif(file)).toMatchObject({ initial: 3600, after: 10800 });
    // With more transitions than fit a guess: a binary search over many.
    const many: [number, number][] = Array.from({ length: 400 }, (_, i) => [i * 86_400, (i % 2) * 3600]);
    put('Test/Many', tzif({ initial: 0, transitions: many, footer: 'AAA-1' })); // as the last: +1 h
    const m = findZone('Test/Many', dir)!;
    for (const i of [0, 1, 2, 199, 200, 398, 399]) {
      expect(m.offsetMs(i * 86_400_000 + 1000)).toBe((i % 2) * HOUR);
      if (i > 0) expect(m.offsetMs(i * 86_400_000 - 1000)).toBe(((i - 1) % 2) * HOUR);
    }
  });

  it('leaves what a daylight-saving footer rule decides to Intl, after the last transition only', () => {
    const t0 = Date.UTC(2000, 0, 1) / 1000;
    // A file that says +5 h until its last transition, then Berlin's rules.
    put(
      'Europe/Berlin',
      tzif({ initial: 5 * 3600, transitions: [[t0, 5 * 3600]], footer: 'CET-1CEST,M3.5.0,M10.5.0/3' }),
    );
    const z = findZone('Europe/Berlin', dir)!;
    expect(z.offsetMs(Date.UTC(1999, 6, 1))).toBe(5 * HOUR); // the file
    expect(z.offsetMs(Date.UTC(2030, 6, 1))).toBe(2 * HOUR); // Intl: summer time
    expect(z.offsetMs(Date.UTC(2030, 0, 1))).toBe(HOUR); // Intl: winter
  });

  it('falls back to Intl for a missing database, a broken file or leap seconds; refuses names that are not zones', () => {
    put('Asia/Shanghai', tzif({ initial: 3 * 3600, footer: 'ZZZ-3', leapSeconds: true }));
    put('Asia/Tokyo', Buffer.from('not a zone file'));
    const summer = Date.UTC(2026, 6, 1);
    expect(findZone('Asia/Shanghai', dir)!.offsetMs(summer)).toBe(8 * HOUR);
    expect(findZone('Asia/Tokyo', dir)!.offsetMs(summer)).toBe(9 * HOUR);
    const none = join(dir, 'no-such-database');
    expect(findZone('America/New_York', none)!.offsetMs(summer)).toBe(-4 * HOUR);
    expect(existsSync(none)).toBe(false);
    for (const bad of [
      '',
      'Mars/Olympus_Mons',
      '../Test/Plus3',
      'Test/../Test/Plus3',
      '/etc/passwd',
      'Test',
      'Asia',
    ]) {
      expect(findZone(bad, dir), bad).toBeUndefined();
    }
    expect(() => zoneOf('Mars/Olympus_Mons')).toThrow(/unknown time zone "Mars\/Olympus_Mons"/);
    expect(zoneOf('Asia/Shanghai').offsetMs(summer)).toBe(8 * HOUR);
    expect(parseTzif(Buffer.from('TZif2'))).toBeUndefined();
    expect(parseTzif(tzif({ initial: 0 }).subarray(0, 60))).toBeUndefined();
  });

  it('takes the database from TZDIR, and the system one otherwise', () => {
    const before = process.env.TZDIR;
    try {
      process.env.TZDIR = dir;
      expect(zoneDir()).toBe(dir);
      expect(isTimeZone('Test/Plus3')).toBe(true);
      delete process.env.TZDIR;
      expect(zoneDir()).toBe('/usr/share/zoneinfo');
    } finally {
      if (before === undefined) delete process.env.TZDIR;
      else process.env.TZDIR = before;
    }
  });
});

describe('parseTzif on files as zic writes them and as it does not', () => {
  const t0 = 1_000_000_000;
  const t1 = 1_500_000_000;
  const steps: [number, number][] = [
    [t0, 7200],
    [t1, 10800],
  ];
  /** Where the footer's leading newline is: the end of the version 2 data. */
  const footerAt = (file: Buffer, footer: string) => file.length - footer.length - 2;

  it('reads past standard and UT indicators to the 64-bit data and the footer', () => {
    const t = parseTzif(tzif({ initial: 3600, transitions: steps, footer: 'XYZ-5', indicators: true }))!;
    expect([...t.times]).toEqual([t0, t1]);
    expect([...t.offsets]).toEqual([7200, 10800]);
    expect(t).toMatchObject({ initial: 3600, after: 5 * 3600 });
  });

  it('holds the last offset after a version 1 file, and the initial one where there are no transitions', () => {
    expect(parseTzif(tzif({ version: 1, initial: 3600, transitions: steps }))).toMatchObject({
      initial: 3600,
      after: 10800,
    });
    const fixed = parseTzif(tzif({ version: 1, initial: 8 * 3600 }))!;
    expect(fixed.times).toHaveLength(0);
    expect(fixed).toMatchObject({ initial: 8 * 3600, after: 8 * 3600 });
  });

  it('takes no footer from a version 1 file, whatever follows it', () => {
    const v1 = tzif({ version: 1, initial: 3600, transitions: steps });
    const trailed = Buffer.concat([v1, Buffer.from('\nXYZ-5\n', 'latin1')]);
    expect(parseTzif(trailed)).toMatchObject({ after: 10800 });
  });

  it('keeps the last offset where the footer is empty or does not start with a newline', () => {
    // An empty TZ string leaves the time after the last transition unspecified: hold the last
    // offset, as CPython's zoneinfo does.
    expect(parseTzif(tzif({ initial: 3600, transitions: steps, footer: '' }))).toMatchObject({
      after: 10800,
    });
    const file = tzif({ initial: 3600, transitions: steps, footer: 'XYZ-5' });
    const at = footerAt(file, 'XYZ-5');
    expect(file[at]).toBe(0x0a);
    file[at] = 0x59; // "Y": not a footer
    expect(parseTzif(file)).toMatchObject({ after: 10800 });
  });

  it('reads a footer of hours, minutes and seconds, east or west, and leaves anything else to Intl', () => {
    const after = (footer: string) => parseTzif(tzif({ initial: 0, footer }))!.after;
    expect(after('<+0545>-5:45')).toBe(5 * 3600 + 45 * 60);
    expect(after('LMT-0:25:21')).toBe(25 * 60 + 21);
    expect(after('EST5')).toBe(-5 * 3600);
    expect(after('<-03>+3')).toBe(-3 * 3600);
    expect(after('ABC-12:30')).toBe(12 * 3600 + 30 * 60);
    expect(after('UTC0')).toBe(0);
    expect(Object.is(after('UTC-0'), 0)).toBe(true);
    for (const ruled of [
      'EST5EDT,M3.2.0,M11.1.0',
      'AB-1',
      'ABC-1:5',
      'ABC-1:00:5',
      'ABC-1234',
      'ABC-1:xx',
      '9ABC-3',
    ])
      expect(after(ruled), ruled).toBe('rule');
  });

  it('refuses files that are cut short, mislabelled or point at types they do not have', () => {
    const good = tzif({ initial: 3600, transitions: steps, footer: 'XYZ-3' });
    expect(parseTzif(good)).toBeDefined();
    // Cut inside the 64-bit data: not read past its end.
    expect(parseTzif(good.subarray(0, footerAt(good, 'XYZ-3') - 1))).toBeUndefined();
    // Cut inside the second header.
    const v1Length = tzif({ version: 1, initial: 3600, transitions: steps }).length;
    expect(parseTzif(good.subarray(0, v1Length + 40))).toBeUndefined();
    const badMagic = Buffer.from(good);
    badMagic.write('XZif', 0, 'latin1');
    expect(parseTzif(badMagic)).toBeUndefined();
    const badSecondMagic = Buffer.from(good);
    badSecondMagic.write('TZiX', v1Length, 'latin1');
    expect(parseTzif(badSecondMagic)).toBeUndefined();
    // The first transition of the 64-bit data names type 3 of three (0, 1 and 2).
    const badType = Buffer.from(good);
    const typeIndexAt = v1Length + 44 + 2 * 8;
    expect(badType[typeIndexAt]).toBe(1);
    badType[typeIndexAt] = 3;
    expect(parseTzif(badType)).toBeUndefined();
    // No time types at all.
    const noTypes = tzif({ version: 1, initial: 0 });
    noTypes.writeUInt32BE(0, 36);
    expect(parseTzif(noTypes)).toBeUndefined();
  });
});

describe('tableOffset', () => {
  const table = {
    times: Float64Array.from([100, 200]),
    offsets: Int32Array.from([3600, 7200]),
    initial: 0,
  };

  it('answers before, on and between transitions, and after the last from the footer', () => {
    const t = { ...table, after: 10800 as const };
    expect(tableOffset(t, 99)).toBe(0);
    expect(tableOffset(t, 100)).toBe(3600);
    expect(tableOffset(t, 199)).toBe(3600);
    expect(tableOffset(t, 200)).toBe(10800);
    expect(tableOffset(t, 1e9)).toBe(10800);
  });

  it('leaves the time after the last transition to a rule footer, and only that time', () => {
    const t = { ...table, after: 'rule' as const };
    expect(tableOffset(t, 199)).toBe(3600);
    expect(tableOffset(t, 200)).toBeUndefined();
    expect(
      tableOffset({ times: new Float64Array(0), offsets: new Int32Array(0), initial: 0, after: 'rule' }, 5),
    ).toBeUndefined();
    expect(
      tableOffset({ times: new Float64Array(0), offsets: new Int32Array(0), initial: 0, after: 19800 }, -5),
    ).toBe(19800);
  });
});

describe('zone names', () => {
  it('finds zones of one, two and three segments in the database', () => {
    put('Zulu', tzif({ initial: 0, footer: 'UTC0' }));
    put('Test/Deep/Three', tzif({ initial: 3 * 3600, footer: 'ABC-3' }));
    expect(findZone('Zulu', dir)!.offsetMs(0)).toBe(0);
    expect(findZone('Test/Deep/Three', dir)!.offsetMs(0)).toBe(3 * HOUR);
    expect(readZoneTable('Test/Deep/Three', dir)).toMatchObject({ after: 3 * 3600 });
  });
});
