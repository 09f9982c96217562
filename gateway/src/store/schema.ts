/**
 * Opening the log file: refuse anything doubtful, never delete or recreate an existing file,
 * upgrade the schema in one transaction. A new log is built under a temporary name and renamed
 * into place, so a crash during creation never leaves an empty file that looks like a log.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LantianError, type ErrorCode } from '../core/errors.js';

export type SqliteDb = Database.Database;

/** Written into the SQLite header (`PRAGMA application_id`): "LTNL". */
export const APPLICATION_ID = 0x4c544e4c;

/** Each entry upgrades the schema from its index to index + 1; user_version counts them. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
  CREATE TABLE points (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    point TEXT NOT NULL,
    UNIQUE (device, point)
  );
  -- value has no declared type on purpose: numbers stay numbers and strings stay strings.
  CREATE TABLE readings (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    point_id INTEGER NOT NULL,
    value,
    flag TEXT NOT NULL,
    quality TEXT,
    raw BLOB
  );
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
  );
  CREATE TABLE aggregates (
    seq INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL,
    period TEXT NOT NULL,
    start INTEGER NOT NULL,
    min REAL,
    avg REAL,
    max REAL,
    count INTEGER NOT NULL,
    flag TEXT NOT NULL
  );
  CREATE INDEX aggregates_by_key ON aggregates (point_id, period, start);
  CREATE TABLE blobs (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL
  );
  CREATE TABLE cursors (
    uplink TEXT PRIMARY KEY,
    prefix INTEGER NOT NULL,
    ranges TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO meta (key, value) VALUES
    ('next_seq', 1), ('boot', 0), ('gap_events', 0), ('dropped_records', 0),
    ('log_id', lower(hex(randomblob(8))));
  `,
  // What processing adds to an aggregate (reference-O2 value, emission amount, outlet, HJ 212
  // code, how it was derived) as JSON; NULL for aggregates that carry none of it.
  `ALTER TABLE aggregates ADD COLUMN detail TEXT;`,
  // Where a blob came from (the camera) and what asked for it (an event and the readings around
  // it, a schedule, a command) as JSON; NULL for blobs written before it was kept.
  `ALTER TABLE blobs ADD COLUMN detail TEXT;`,
  // Slots of the reading's device that overran just before its poll, as JSON
  // (`{"slots":3,"from":…,"periodMs":100}`); NULL for nearly every reading.
  `ALTER TABLE readings ADD COLUMN missed TEXT;`,
  // From here on `missed` is written as "slots,age,periodMs" (records.ts, encodeMissed); the JSON
  // of older rows stays as it is and is still read. Nothing in the file changes: the version is
  // raised so that a gateway that reads only JSON refuses the file (STORE_SCHEMA_NEWER) instead
  // of failing on the first row it cannot parse.
  `SELECT 1;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenDatabaseOptions {
  /** `normal` (default) survives a killed process; `full` also survives power loss, slower. */
  synchronous: 'normal' | 'full';
  /** `quick` (default) runs PRAGMA quick_check at open; `none` skips it. */
  integrityCheck: 'quick' | 'none';
  /** Hard cap of the main file in bytes (SQLite max_page_count); writes beyond it fail. */
  hardLimitBytes?: number;
  /** First sequence number of a new log (ignored for an existing file); default 1. */
  startSeq?: number;
  /** Migrations to apply, for tests of the upgrade path; defaults to all known ones. */
  migrations?: readonly string[];
}

const RECOVER_HINT = (path: string) =>
  `The gateway did not start and left the file untouched. Stop the gateway and run ` +
  `'lantian log recover ${path}': it moves the file with its -wal aside, salvages what it can ` +
  `read and starts a new log above every seq the old one issued (docs/store.md).`;

function fail(code: ErrorCode, path: string, what: string, cause?: unknown): LantianError {
  const hint = code === 'STORE_OPEN_FAILED' || code === 'STORE_LOCKED' ? '' : ` ${RECOVER_HINT(path)}`;
  return new LantianError(code, `${path}: ${what}.${hint}`, { cause, context: { file: path } });
}

/** The `code` of a SQLite or system error (or of a LantianError's context), '' when none. */
export function sqliteCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}

/** Free space the log needs to start and take in readings for a while: 1 MiB. */
export const START_FREE_BYTES = 1024 * 1024;

/**
 * The log connection's page cache, KiB. The readings table is appended at its right edge and has
 * no index of its own, so a write touches a few pages at the end of the file, and a read of the
 * backlog runs once through pages in order: a large cache buys neither speed. SQLite as
 * better-sqlite3 builds it caches up to 16 MB a connection, which a long-running gateway fills
 * with pages of its own log it will not read again (docs/store.md, "Memory on small boards").
 */
export const LOG_CACHE_KIB = 512;

/** A write failed because the disk (or the file-size limit) is full. */
export function isDiskFull(e: unknown): boolean {
  const code = sqliteCode(e instanceof LantianError ? e.context : e);
  return code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EFBIG';
}

/** Free bytes on the file system that holds `path`, or undefined when it cannot be asked. */
function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(dirname(path));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/** STORE_DISK_FULL naming the file, the space it needs and the space there is. */
export function diskFullError(path: string, e: unknown): LantianError {
  const free = freeBytes(path);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  return new LantianError(
    'STORE_DISK_FULL',
    `${path}: the disk is full: the log needs at least ${mib(START_FREE_BYTES)} free in ${dirname(path)} ` +
      `to start${free === undefined ? '' : `, ${mib(free)} is free`}. Free some space (or move the log to a ` +
      'larger disk) and start again; the log file was not changed.',
    { cause: e, context: { file: path, neededBytes: START_FREE_BYTES, freeBytes: free ?? null } },
  );
}

/** Maps a SQLite failure while opening or checking to the store code that explains it. */
function classify(path: string, e: unknown): LantianError {
  if (isDiskFull(e)) return diskFullError(path, e);
  // Creating the WAL index on a full disk fails as an I/O error, not as SQLITE_FULL.
  if (/^SQLITE_(IOERR|CANTOPEN)/.test(sqliteCode(e)) && (freeBytes(path) ?? Infinity) < START_FREE_BYTES)
    return diskFullError(path, e);
  if (e instanceof LantianError) return e;
  const code = sqliteCode(e);
  const detail = (e as Error).message;
  if (code.startsWith('SQLITE_NOTADB'))
    return fail('STORE_CORRUPT', path, `not a readable log (${detail})`, e);
  if (code.startsWith('SQLITE_CORRUPT'))
    return fail('STORE_CORRUPT', path, `the log is corrupt (${detail})`, e);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return fail('STORE_LOCKED', path, `another process has the log open (${detail}); stop it first`, e);
  }
  return fail('STORE_OPEN_FAILED', path, `cannot open the log (${detail})`, e);
}

function migrate(db: SqliteDb, path: string, migrations: readonly string[]): void {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from >= migrations.length) return;
  try {
    db.transaction(() => {
      for (let v = from; v < migrations.length; v++) db.exec(migrations[v]!);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${migrations.length}`);
    }).immediate();
  } catch (e) {
    throw new LantianError(
      'STORE_MIGRATION_FAILED',
      `${path}: upgrading the log from schema ${from} to ${migrations.length} failed (${(e as Error).message}); ` +
        'the upgrade was rolled back and the file is unchanged.',
      { cause: e, context: { file: path, from, to: migrations.length } },
    );
  }
}

/** Gives an empty database the log's schema (for salvage files, which are never opened as a log). */
export function createSchema(db: SqliteDb): void {
  migrate(db, db.name, MIGRATIONS);
}

/** Builds a new log under a temporary name and renames it into place once complete. */
function create(path: string, migrations: readonly string[], startSeq: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.creating-${process.pid}`;
  rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = WAL');
    migrate(db, path, migrations);
    if (startSeq !== 1) db.prepare(`UPDATE meta SET value = ? WHERE key = 'next_seq'`).run(startSeq);
  } finally {
    db.close();
  }
  renameSync(tmp, path);
}

function checkExisting(path: string): void {
  if (!existsSync(path)) {
    if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) {
      throw fail('STORE_CORRUPT', path, 'the log file is missing but its write-ahead log is there');
    }
    return;
  }
  if (statSync(path).size === 0) throw fail('STORE_CORRUPT', path, 'the log file is empty (truncated)');
}

/**
 * Runs every check on a read-only connection, so a refused file is never written: a read-only
 * connection neither checkpoints the WAL into the file nor deletes it on close. The `-shm` index
 * (and an empty `-wal`) it may create are removed again if they were not there before.
 */
function inspect(path: string, options: OpenDatabaseOptions, known: number): void {
  readOnly(path, (db) => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (appId !== APPLICATION_ID) {
      throw fail('STORE_NOT_A_LOG', path, `this SQLite file is not a Lantian log (application_id ${appId})`);
    }
    if (version > known) {
      throw new LantianError(
        'STORE_SCHEMA_NEWER',
        `${path}: the log was written by schema version ${version}, this gateway knows up to ${known}. ` +
          'The file was left untouched: run the gateway version that wrote it, or move the file aside to start a new log.',
        { context: { file: path, version, known } },
      );
    }
    if (options.integrityCheck === 'quick') {
      const result = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
      const problems = result.map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (problems.length > 0)
        throw fail('STORE_CORRUPT', path, `integrity check failed: ${problems.join('; ')}`);
    }
  });
}

/**
 * Runs `look` on a read-only connection to an existing log and leaves the directory as it was:
 * the `-shm` index (and an empty `-wal`) the connection may create are removed again. Failures
 * come out classified (STORE_LOCKED while a gateway holds the file, STORE_CORRUPT, …).
 */
export function readOnly<T>(path: string, look: (db: SqliteDb) => T): T {
  const had = { wal: existsSync(`${path}-wal`), shm: existsSync(`${path}-shm`) };
  let db: SqliteDb | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 0 });
    return look(db);
  } catch (e) {
    throw classify(path, e);
  } finally {
    db?.close();
    if (!had.shm) rmSync(`${path}-shm`, { force: true });
    if (!had.wal && existsSync(`${path}-wal`) && statSync(`${path}-wal`).size === 0)
      rmSync(`${path}-wal`, { force: true });
  }
}

/** Opens (or creates) the log file with every check; throws a LantianError naming the file. */
export function openDatabase(path: string, options: OpenDatabaseOptions): SqliteDb {
  const migrations = options.migrations ?? MIGRATIONS;
  checkExisting(path);
  try {
    if (!existsSync(path)) create(path, migrations, options.startSeq ?? 1);
  } catch (e) {
    throw classify(path, e);
  }
  inspect(path, options, migrations.length);
  let db: SqliteDb;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 0 });
  } catch (e) {
    throw classify(path, e);
  }
  try {
    // Exclusive locking: a second gateway on the same file fails at once instead of
    // interleaving sequence numbers. WAL then keeps its index in process memory.
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw fail('STORE_OPEN_FAILED', path, `cannot switch the log to WAL mode (got ${String(mode)})`);
    migrate(db, path, migrations);
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Keep the WAL file from staying large after a burst: it counts against the quota.
    db.pragma('journal_size_limit = 4194304');
    db.pragma(`cache_size = -${LOG_CACHE_KIB}`);
    if (options.hardLimitBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.hardLimitBytes / pageSize))}`);
    }
    return db;
  } catch (e) {
    db.close();
    throw classify(path, e);
  }
}
