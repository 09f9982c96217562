import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLantianError, type LantianError } from '../../../gateway/src/core/errors.js';
import { openLog, SCHEMA_VERSION } from '../../../gateway/src/store/index.js';
import { LOG_CACHE_KIB, MIGRATIONS, openDatabase } from '../../../gateway/src/store/schema.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let path: string;
beforeEach(() => {
  tmp = tempDir();
  path = tmp.file('log.db');
});
afterEach(() => tmp.remove());

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function openError(file: string): LantianError {
  try {
    openLog({ path: file }).close();
  } catch (e) {
    if (isLantianError(e)) return e;
    throw e;
  }
  throw new Error('the log opened');
}

function makeLog(readings: number): void {
  const log = openLog({ path });
  for (let i = 0; i < readings; i += 1000) log.append(syntheticBatch(i, 1000));
  log.close();
}

describe('opening the log', () => {
  it('creates a new log with its directory and leaves no temporary file behind', () => {
    const nested = tmp.file('var/lib/lantian/log.db');
    openLog({ path: nested }).close();
    expect(existsSync(nested)).toBe(true);
    expect(existsSync(`${nested}.creating-${process.pid}`)).toBe(false);
  });

  it('refuses a file that is not SQLite, names it and leaves it untouched', () => {
    writeFileSync(path, 'this is a text file, not a log\n'.repeat(200));
    const before = digest(path);
    const e = openError(path);
    expect(e.code).toBe('STORE_CORRUPT');
    expect(e.context.file).toBe(path);
    expect(e.message).toContain(path);
    expect(digest(path)).toBe(before);
  });

  it('refuses a truncated log and leaves it untouched', () => {
    makeLog(20_000);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const before = digest(path);
    expect(openError(path).code).toBe('STORE_CORRUPT');
    expect(digest(path)).toBe(before);
  });

  it('refuses an empty file instead of treating it as a new log', () => {
    writeFileSync(path, '');
    expect(openError(path).code).toBe('STORE_CORRUPT');
    expect(statSync(path).size).toBe(0);
  });

  it('refuses a write-ahead log whose main file is gone', () => {
    writeFileSync(`${path}-wal`, Buffer.alloc(4096, 1));
    expect(openError(path).code).toBe('STORE_CORRUPT');
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a log with damaged pages', () => {
    makeLog(20_000);
    const bytes = readFileSync(path);
    // Scribble over a few pages in the middle, past the header and the schema.
    bytes.fill(0xa5, 8 * 4096 + 100, 12 * 4096);
    writeFileSync(path, bytes);
    expect(openError(path).code).toBe('STORE_CORRUPT');
  });

  it('refuses a log written by a newer schema version and leaves it untouched', () => {
    makeLog(10);
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = digest(path);
    const e = openError(path);
    expect(e.code).toBe('STORE_SCHEMA_NEWER');
    expect(e.context).toMatchObject({ file: path, version: SCHEMA_VERSION + 1, known: SCHEMA_VERSION });
    expect(digest(path)).toBe(before);
  });

  it('refuses a SQLite database that is not a Lantian log', () => {
    const db = new Database(path);
    db.exec('CREATE TABLE customers (name TEXT)');
    db.close();
    expect(openError(path).code).toBe('STORE_NOT_A_LOG');
  });

  it('upgrades an older schema in one transaction and keeps the data', () => {
    const v1 = 'CREATE TABLE a (x);';
    openDatabase(path, { synchronous: 'normal', integrityCheck: 'quick', migrations: [v1] }).close();
    const db = openDatabase(path, {
      synchronous: 'normal',
      integrityCheck: 'quick',
      migrations: [v1, 'CREATE TABLE b (y); INSERT INTO b VALUES (42);'],
    });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT y FROM b').pluck().get()).toBe(42);
    db.close();
  });

  it('opens a log written before readings kept missed slots, and adds them from then on', () => {
    const db = openDatabase(path, {
      synchronous: 'normal',
      integrityCheck: 'quick',
      migrations: MIGRATIONS.slice(0, 3),
    });
    db.exec(`INSERT INTO points VALUES (1, 'stack1', 'so2'); INSERT INTO readings VALUES (1, 1000, 1, 5, 'N', NULL, NULL);
      UPDATE meta SET value = 2 WHERE key = 'next_seq';`);
    db.close();
    const log = openLog({ path });
    const late = {
      ts: 2000,
      device: 'stack1',
      point: 'so2',
      value: 6,
      flag: 'N' as const,
      missed: { slots: 1, from: 1900, periodMs: 100 },
    };
    log.append([late]);
    expect(log.read(0, 10)).toEqual([
      { type: 'reading', seq: 1, ts: 1000, device: 'stack1', point: 'so2', value: 5, flag: 'N' },
      { type: 'reading', seq: 2, ...late },
    ]);
    expect(log.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    log.close();
  });

  it('opens a log whose missed slots are JSON, reads them, and writes the short form from then on', () => {
    const db = openDatabase(path, {
      synchronous: 'normal',
      integrityCheck: 'quick',
      migrations: MIGRATIONS.slice(0, 4),
    });
    db.exec(`INSERT INTO points VALUES (1, 'stack1', 'so2');
      INSERT INTO readings VALUES (1, 1000, 1, 5, 'N', NULL, NULL, '{"slots":2,"from":800,"periodMs":100}');
      UPDATE meta SET value = 2 WHERE key = 'next_seq';`);
    db.close();
    const log = openLog({ path });
    expect(log.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const next = { ts: 2000, device: 'stack1', point: 'so2', value: 6, flag: 'N' as const };
    log.append([{ ...next, missed: { slots: 3, from: 1700, periodMs: 100 } }]);
    log.close();
    const again = openLog({ path });
    expect(again.read(0, 10).map((r) => r.type === 'reading' && r.missed)).toEqual([
      { slots: 2, from: 800, periodMs: 100 },
      { slots: 3, from: 1700, periodMs: 100 },
    ]);
    expect(again.database.prepare('SELECT missed FROM readings ORDER BY seq').pluck().all()).toEqual([
      '{"slots":2,"from":800,"periodMs":100}',
      '3,300,100',
    ]);
    again.close();
  });

  it('rolls a failed upgrade back and reports it', () => {
    const v1 = 'CREATE TABLE a (x);';
    openDatabase(path, { synchronous: 'normal', integrityCheck: 'quick', migrations: [v1] }).close();
    let code: string | undefined;
    try {
      openDatabase(path, {
        synchronous: 'normal',
        integrityCheck: 'quick',
        migrations: [v1, 'CREATE TABLE b (y); INSERT INTO nowhere VALUES (1);'],
      });
    } catch (e) {
      code = isLantianError(e) ? e.code : String(e);
    }
    expect(code).toBe('STORE_MIGRATION_FAILED');
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'b'`).pluck().get()).toBe(0);
    db.close();
  });
});

const pragma = (db: Database.Database, name: string): unknown => db.pragma(name, { simple: true });

describe('the connection the log opens', () => {
  it('keeps what one transaction writes beyond its page cache: a picture and a batch each larger than it', () => {
    const big = LOG_CACHE_KIB * 1024 * 3;
    const picture = new Uint8Array(big).map((_, i) => (i * 31) % 251);
    const log = openLog({ path });
    let blobSeq: number;
    let last: number;
    try {
      blobSeq = log.appendBlob({ ts: 1, kind: 'snapshot', contentType: 'image/jpeg', bytes: picture });
      // About 40 bytes a row: this one batch is several times the cache.
      last = log.append(syntheticBatch(0, 60_000)).last;
    } finally {
      log.close();
    }
    const again = openLog({ path });
    try {
      const [blob] = again.read(blobSeq - 1, 1);
      expect(blob?.type).toBe('blob');
      expect(Buffer.from((blob as { bytes: Uint8Array }).bytes).equals(Buffer.from(picture))).toBe(true);
      expect(again.lastSeq).toBe(last);
      expect(again.read(last - 1, 1)[0]).toMatchObject({ seq: last, type: 'reading' });
    } finally {
      again.close();
    }
  });

  it('syncs NORMAL by default and FULL when asked, holds the file exclusively and bounds the WAL', () => {
    const log = openLog({ path });
    try {
      expect(pragma(log.database, 'synchronous')).toBe(1);
      expect(pragma(log.database, 'locking_mode')).toBe('exclusive');
      expect(pragma(log.database, 'journal_mode')).toBe('wal');
      expect(pragma(log.database, 'journal_size_limit')).toBe(4 * 1024 * 1024);
      expect(pragma(log.database, 'cache_size')).toBe(-LOG_CACHE_KIB);
    } finally {
      log.close();
    }
    const full = openLog({ path, synchronous: 'full' });
    try {
      expect(pragma(full.database, 'synchronous')).toBe(2);
    } finally {
      full.close();
    }
  });

  it('turns the hard limit into whole pages, at least one', () => {
    const log = openLog({ path, hardLimitBytes: 400_000 });
    const pageSize = pragma(log.database, 'page_size') as number;
    try {
      expect(pragma(log.database, 'max_page_count')).toBe(Math.floor(400_000 / pageSize));
    } finally {
      log.close();
    }
    const unlimited = openLog({ path });
    try {
      expect(pragma(unlimited.database, 'max_page_count')).toBeGreaterThan(1_000_000);
    } finally {
      unlimited.close();
    }
  });
});

describe('opening leaves the directory as it found it', () => {
  it('leaves no -shm or empty -wal beside a file it refuses', () => {
    const db = new Database(path);
    db.exec('CREATE TABLE customers (name TEXT)');
    db.close();
    expect(openError(path).code).toBe('STORE_NOT_A_LOG');
    expect(existsSync(`${path}-shm`)).toBe(false);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('replaces the half-built file a crash during creation left behind', () => {
    writeFileSync(`${path}.creating-${process.pid}`, 'not a database, left by a crash\n'.repeat(100));
    const log = openLog({ path });
    try {
      expect(log.append(syntheticBatch(0, 2))).toEqual({ first: 1, last: 2 });
    } finally {
      log.close();
    }
    expect(existsSync(`${path}.creating-${process.pid}`)).toBe(false);
  });

  it('creates a new log where only an empty write-ahead log is left', () => {
    writeFileSync(`${path}-wal`, '');
    const log = openLog({ path });
    try {
      expect(log.lastSeq).toBe(0);
    } finally {
      log.close();
    }
  });
});

describe('refusals say what to do', () => {
  it('points at `lantian log recover` for a damaged file, never for a file in use', () => {
    writeFileSync(path, 'this is a text file, not a log\n'.repeat(200));
    const corrupt = openError(path);
    expect(corrupt.code).toBe('STORE_CORRUPT');
    expect(corrupt.message).toContain(`lantian log recover ${path}`);
    const inUse = tmp.file('in-use.db');
    const log = openLog({ path: inUse });
    try {
      const locked = openError(inUse);
      expect(locked.code).toBe('STORE_LOCKED');
      expect(locked.message).not.toContain('lantian log recover');
      expect(locked.context.file).toBe(inUse);
    } finally {
      log.close();
    }
  });

  it('says which schema versions a newer log has and this gateway knows', () => {
    openLog({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 3}`);
    db.close();
    const e = openError(path);
    expect(e.code).toBe('STORE_SCHEMA_NEWER');
    expect(e.message).toContain(`schema version ${SCHEMA_VERSION + 3}`);
  });
});

describe('the record count kept in meta', () => {
  it('is counted once for a log written before it was kept, and stored', () => {
    const log = openLog({ path });
    log.append(syntheticBatch(0, 5));
    log.appendEvent({ ts: 1, kind: 'alarm', payload: 1 });
    log.close();
    const db = new Database(path);
    db.prepare(`DELETE FROM meta WHERE key = 'row_count'`).run();
    db.close();
    const again = openLog({ path });
    try {
      expect(again.rowCount).toBe(6);
      expect(again.database.prepare(`SELECT value FROM meta WHERE key = 'row_count'`).pluck().get()).toBe(6);
    } finally {
      again.close();
    }
  });
});
