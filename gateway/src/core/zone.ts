/**
 * UTC offsets of IANA time zones, from the system's time-zone database (TZif files, RFC 8536,
 * under $TZDIR or /usr/share/zoneinfo) rather than from `Intl`.
 *
 * Why not `Intl.DateTimeFormat`: the first one a process makes maps ICU's locale and calendar data
 * out of the node binary, about 8 MB of resident memory for the life of the daemon, to answer
 * one question (the offset at an instant) that the zone's file answers from a few hundred bytes
 * (docs/footprint.md, "Why idle stays above 60 MB").
 *
 * `Intl` stays the fallback, so every zone node knows still works: where the database or the
 * zone's file is missing, for instants after a file's last transition whose footer rule has
 * daylight saving (a "slim" file, or a fat one past 2037), and for files with leap seconds. The
 * system's database is what the board's clock and its updates follow; node's copy may be older.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Zone {
  readonly name: string;
  /** Local time minus UTC at `utcMs`, in milliseconds (+8 h for Asia/Shanghai). */
  offsetMs(utcMs: number): number;
}

/** A zone name as a relative path of plain segments: nothing that could leave the database. */
const NAME = /^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;

/** The transitions of a TZif file and what holds after the last. */
export interface ZoneTable {
  /** Transition instants, UTC seconds, ascending. */
  times: Float64Array;
  /** Offset (seconds) in force from each transition on. */
  offsets: Int32Array;
  /** Offset before the first transition (time type 0). */
  initial: number;
  /**
   * After the last transition: a fixed offset (seconds), or `rule` when the footer has
   * daylight-saving rules, which are left to Intl.
   */
  after: number | 'rule';
}

/** A POSIX TZ string without daylight saving (`CST-8`, `<+0545>-5:45`): its offset in seconds. */
function fixedFooter(tz: string): number | 'rule' {
  const m = /^(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)([+-]?)(\d{1,3})(?::(\d{2}))?(?::(\d{2}))?$/.exec(tz);
  if (!m) return 'rule';
  // POSIX counts west of Greenwich as positive: CST-8 is UTC+8.
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return (m[1] === '-' ? 1 : -1) * seconds || 0;
}

/** Parses a TZif file; undefined when it is not one this module reads (then Intl answers). */
export function parseTzif(bytes: Buffer): ZoneTable | undefined {
  if (bytes.length < 44 || bytes.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const version = bytes[4]!;
  const counts = (at: number) => ({
    isut: bytes.readUInt32BE(at + 20),
    isstd: bytes.readUInt32BE(at + 24),
    leap: bytes.readUInt32BE(at + 28),
    time: bytes.readUInt32BE(at + 32),
    type: bytes.readUInt32BE(at + 36),
    char: bytes.readUInt32BE(at + 40),
  });
  const blockSize = (c: ReturnType<typeof counts>, timeBytes: number) =>
    c.time * timeBytes + c.time + c.type * 6 + c.char + c.leap * (timeBytes + 4) + c.isstd + c.isut;
  let at = 0;
  let c = counts(0);
  let timeBytes = 4;
  if (version >= 0x32) {
    // Version 2 and later repeat the data with 64-bit times after the version 1 block.
    at = 44 + blockSize(c, 4);
    if (bytes.length < at + 44 || bytes.toString('latin1', at, at + 4) !== 'TZif') return undefined;
    c = counts(at);
    timeBytes = 8;
  }
  const data = at + 44;
  const end = data + blockSize(c, timeBytes);
  if (c.type === 0 || c.leap > 0 || bytes.length < end) return undefined;
  const times = new Float64Array(c.time);
  const offsets = new Int32Array(c.time);
  const typeAt = data + c.time * timeBytes;
  const ttinfo = typeAt + c.time;
  const utoff = (type: number) => bytes.readInt32BE(ttinfo + type * 6);
  for (let i = 0; i < c.time; i++) {
    times[i] = timeBytes === 8 ? Number(bytes.readBigInt64BE(data + i * 8)) : bytes.readInt32BE(data + i * 4);
    const type = bytes[typeAt + i]!;
    if (type >= c.type) return undefined;
    offsets[i] = utoff(type);
  }
  const last = c.time > 0 ? offsets[c.time - 1]! : utoff(0);
  let after: number | 'rule' = last;
  if (version >= 0x32 && bytes[end] === 0x0a) {
    const close = bytes.indexOf(0x0a, end + 1);
    const footer = close < 0 ? '' : bytes.toString('latin1', end + 1, close);
    if (footer !== '') after = fixedFooter(footer);
  }
  return { times, offsets, initial: utoff(0), after };
}

/** The offset a table gives at `seconds`, or undefined where its footer's rule decides. */
export function tableOffset(t: ZoneTable, seconds: number): number | undefined {
  const n = t.times.length;
  if (n > 0 && seconds < t.times[0]!) return t.initial;
  if (n === 0 || seconds >= t.times[n - 1]!) return t.after === 'rule' ? undefined : t.after;
  let lo = 0;
  let hi = n - 1;
  // The last transition at or before `seconds`: times[lo] <= seconds < times[hi].
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t.times[mid]! <= seconds) lo = mid;
    else hi = mid;
  }
  return t.offsets[lo];
}

/** Offsets from Intl, for what the database cannot answer. Made only when first needed. */
function intlOffsets(name: string): (utcMs: number) => number {
  let format: Intl.DateTimeFormat | undefined;
  return (utcMs) => {
    format ??= new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(utcMs)) p[part.type] = Number(part.value);
    const local = Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second);
    return local - (utcMs - (((utcMs % 1000) + 1000) % 1000));
  };
}

function intlKnows(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The time-zone database in use: $TZDIR, else /usr/share/zoneinfo. */
export function zoneDir(): string {
  return process.env.TZDIR || '/usr/share/zoneinfo';
}

/** The zone's table from `dir`, or undefined when the file is missing or not readable TZif. */
export function readZoneTable(name: string, dir = zoneDir()): ZoneTable | undefined {
  if (!NAME.test(name)) return undefined;
  try {
    return parseTzif(readFileSync(join(dir, name)));
  } catch {
    return undefined;
  }
}

const zones = new Map<string, Zone | null>();

/**
 * The zone named `name` (an IANA name such as Asia/Shanghai), or undefined when neither the
 * database nor Intl knows it. Cached per name and database.
 */
export function findZone(name: string, dir = zoneDir()): Zone | undefined {
  const key = `${dir}\0${name}`;
  const known = zones.get(key);
  if (known !== undefined) return known ?? undefined;
  const table = readZoneTable(name, dir);
  let zone: Zone | null = null;
  if (table) {
    let intl: ((utcMs: number) => number) | undefined;
    zone = {
      name,
      offsetMs: (utcMs) => {
        const s = tableOffset(table, Math.floor(utcMs / 1000));
        if (s !== undefined) return s * 1000;
        intl ??= intlOffsets(name);
        return intl(utcMs);
      },
    };
  } else if (NAME.test(name) && intlKnows(name)) {
    zone = { name, offsetMs: intlOffsets(name) };
  }
  zones.set(key, zone);
  return zone ?? undefined;
}

/** The zone named `name`; throws a RangeError naming it when no database knows it. */
export function zoneOf(name: string): Zone {
  const zone = findZone(name);
  if (!zone) throw new RangeError(`unknown time zone ${JSON.stringify(name)}`);
  return zone;
}

/** Whether `name` is a time zone this gateway can keep periods in. */
export function isTimeZone(name: string): boolean {
  return findZone(name) !== undefined;
}
