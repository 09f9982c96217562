/**
 * Reading what is still readable from a damaged log, with the library's own SQLite (no external
 * CLI). Works on a scratch copy, so the damaged file and its WAL stay exactly as they were. Rows
 * are copied with their original seqs into a salvage file of the log's own schema; a damaged
 * page costs the rows on it, not the rest of the table.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { RangeSet } from './ranges.js';
import { createSchema, type SqliteDb } from './schema.js';

export interface SalvageResult {
  /** Rows copied per table. */
  rows: Record<string, number>;
  /** Seqs of every record copied. */
  seqs: RangeSet;
  /** `next_seq` and `log_id` from the damaged file's meta, when readable. */
  nextSeq: number | undefined;
  logId: string | undefined;
  /** Every seq up to this was delivered by every uplink (0 when no cursor was readable). */
  deliveredThrough: number;
  /** Why nothing at all was readable, when that is the case. */
  unreadable?: string;
}

const SEQ_TABLES = ['readings', 'events', 'aggregates', 'blobs'] as const;

/** Nothing salvaged (yet). */
export function emptySalvage(): SalvageResult {
  return { rows: {}, seqs: new RangeSet(), nextSeq: undefined, logId: undefined, deliveredThrough: 0 };
}
const CHUNK = 500;

/** Copies what `damaged` (with its `-wal`, if any) still holds into a new file `into`. */
export function salvage(damaged: string, into: string): SalvageResult {
  const result = emptySalvage();
  const scratch = mkdtempSync(join(dirname(into), `.${basename(into)}-`));
  const copy = join(scratch, 'damaged.db');
  const out = new Database(into);
  try {
    copyFileSync(damaged, copy);
    if (existsSync(`${damaged}-wal`)) copyFileSync(`${damaged}-wal`, `${copy}-wal`);
    fitHeaderToFile(copy);
    createSchema(out);
    let src: SqliteDb;
    try {
      src = new Database(copy, { fileMustExist: true });
      src.pragma('user_version');
    } catch (e) {
      result.unreadable = (e as Error).message;
      return result;
    }
    try {
      out.transaction(() => copyAll(src, out, result))();
    } finally {
      src.close();
    }
  } finally {
    out.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return result;
}

function copyAll(src: SqliteDb, out: SqliteDb, result: SalvageResult): void {
  const meta = tryAll<[string, unknown]>(src, 'SELECT key, value FROM meta');
  for (const [key, value] of meta) {
    if (key === 'next_seq') result.nextSeq = Number(value);
    if (key === 'log_id') result.logId = String(value);
    out.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }
  out.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('salvaged', 1)`).run();
  result.rows.points = copyByKey(src, out, 'points', 'id', () => undefined);
  for (const table of SEQ_TABLES) {
    result.rows[table] = copyByKey(src, out, table, 'seq', (seq) => result.seqs.add(seq));
  }
  const cursors = tryAll<[string, number, string]>(src, 'SELECT uplink, prefix, ranges FROM cursors');
  for (const c of cursors) out.prepare('INSERT INTO cursors VALUES (?, ?, ?)').run(...c);
  result.rows.cursors = cursors.length;
  if (cursors.length > 0) result.deliveredThrough = Math.min(...cursors.map((c) => c[1]));
}

/**
 * A truncated file still says in its header how many pages it had, and SQLite then reads the
 * missing ones as zeros and refuses the whole schema. On the scratch copy, the header is made
 * to say what the file really holds, so everything on the pages that are left can be read.
 */
function fitHeaderToFile(copy: string): void {
  const fd = openSync(copy, 'r+');
  try {
    const head = Buffer.alloc(100);
    if (readSync(fd, head, 0, 100, 0) < 100 || head.toString('latin1', 0, 16) !== 'SQLite format 3\u0000')
      return;
    const raw = head.readUInt16BE(16);
    const pageSize = raw === 1 ? 65536 : raw;
    const pages = Math.floor(fstatSync(fd).size / pageSize);
    if (pages === 0 || head.readUInt32BE(28) <= pages) return;
    ftruncateSync(fd, pages * pageSize);
    const n = Buffer.alloc(4);
    n.writeUInt32BE(pages);
    writeSync(fd, n, 0, 4, 28);
  } finally {
    closeSync(fd);
  }
}

function tryAll<T>(db: SqliteDb, sql: string): T[] {
  try {
    return db.prepare(sql).raw().all() as T[];
  } catch {
    return [];
  }
}

/**
 * Copies `table` in key order, in chunks; where a chunk fails it goes row by row, and where a
 * row fails it looks further and further ahead for the next readable one.
 */
function copyByKey(
  src: SqliteDb,
  out: SqliteDb,
  table: string,
  key: string,
  seen: (k: number) => void,
): number {
  const chunk = src.prepare(`SELECT * FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT ?`).raw();
  const probe = src.prepare(`SELECT ${key} FROM ${table} WHERE ${key} > ? ORDER BY ${key} LIMIT 1`).pluck();
  let insert: Database.Statement | undefined;
  let copied = 0;
  let after = 0;
  for (;;) {
    let rows: unknown[][];
    try {
      rows = chunk.all(after, CHUNK) as unknown[][];
    } catch {
      try {
        rows = chunk.all(after, 1) as unknown[][];
      } catch {
        const next = nextReadable(probe, after);
        if (next === undefined) return copied;
        after = next - 1;
        continue;
      }
    }
    if (rows.length === 0) return copied;
    // By name: the damaged file may be of an older schema version than the salvage file.
    const columns = chunk.columns().map((c) => c.name);
    insert ??= out.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    for (const r of rows) {
      insert.run(...r);
      seen(Number(r[0]));
    }
    copied += rows.length;
    after = Number(rows[rows.length - 1]![0]);
  }
}

/**
 * The first key above a damaged spot that can be read again: probes ever further ahead, then
 * narrows down between the last probe that failed and the first that did not, so the readable
 * rows just past the damage are not skipped with the stride.
 */
function nextReadable(probe: Database.Statement, after: number): number | undefined {
  const firstAbove = (at: number): { key: number | undefined } | undefined => {
    try {
      return { key: probe.get(at) as number | undefined };
    } catch {
      return undefined; // Still inside the damage.
    }
  };
  let failed = after;
  for (let step = 1; step < 2 ** 48; step *= 2) {
    if (!firstAbove(after + step)) {
      failed = after + step;
      continue;
    }
    let readable = after + step;
    while (readable - failed > 1) {
      const mid = Math.floor((failed + readable) / 2);
      if (firstAbove(mid)) readable = mid;
      else failed = mid;
    }
    return firstAbove(readable)!.key;
  }
  return undefined;
}
