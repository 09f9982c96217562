/**
 * `lantian log recover FILE`: replaces a damaged log without ever giving a seq out twice.
 * Salvages what the damaged file still holds (from a scratch copy), moves the file with its
 * `-wal` and `-shm` aside under timestamped names, and creates a new log above every seq the
 * old one may have issued: above its high-water mark, its `next_seq` and every salvaged seq.
 * The new log has a new `log_id` and records the replacement and the unrecoverable ranges.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../core/clock.js';
import { LantianError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { openLog } from './log.js';
import { markPath, readMark, type MarkState } from './mark.js';
import type { SeqRange } from './ranges.js';
import { emptySalvage, salvage } from './salvage.js';
import { sqliteCode } from './schema.js';

export interface RecoverOptions {
  /** Every seq up to this may have been issued (e.g. the platform's highest seq), when known. */
  issuedAtLeast?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface RecoveryReport {
  file: string;
  /** Original name -> name it was moved to. */
  moved: [from: string, to: string][];
  /** Where the salvaged rows went (null when the main file was missing). */
  salvageFile: string | null;
  /** Rows salvaged per table. */
  salvaged: Record<string, number>;
  /** Why the damaged file could not be read at all, if so. */
  unreadable?: string;
  previousLogId: string | null;
  logId: string;
  /** The new log's first seq: above every seq the old one may have issued. */
  firstSeq: number;
  /** Highest seq the old log is known to have issued. */
  issuedThrough: number;
  /** Seqs above every uplink's delivered prefix that were issued and could not be salvaged. */
  unrecoverable: SeqRange[];
  unrecoverableCount: number;
  /** Seq of the `log_recovered` event in the new log. */
  eventSeq: number;
}

/** At most this many ranges are listed in the event; the count is always exact. */
const MAX_RANGES = 1000;

function refuse(file: string, what: string, cause?: unknown): LantianError {
  return new LantianError('STORE_RECOVER_FAILED', `${file}: ${what}; nothing was moved or changed.`, {
    cause,
    context: { file },
  });
}

/** A gateway still running on the file holds its exclusive lock: recovering under it would lose data. */
function assertNotInUse(file: string): void {
  if (!existsSync(file)) return;
  const had = { shm: existsSync(`${file}-shm`), wal: existsSync(`${file}-wal`) };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    db.pragma('user_version');
  } catch (e) {
    if (/^SQLITE_BUSY|^SQLITE_LOCKED/.test(sqliteCode(e)))
      throw refuse(file, 'a running gateway has this log open; stop it first', e);
    // Damage is what recovery is for.
  } finally {
    db?.close();
    // The read-only probe may create an empty index and WAL: leave the directory as it was.
    if (!had.shm) rmSync(`${file}-shm`, { force: true });
    if (!had.wal && existsSync(`${file}-wal`) && statSync(`${file}-wal`).size === 0)
      rmSync(`${file}-wal`, { force: true });
  }
}

export function recoverLog(file: string, options: RecoverOptions = {}): RecoveryReport {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  if (!existsSync(file) && !existsSync(`${file}-wal`)) throw refuse(file, 'there is no log file to recover');
  assertNotInUse(file);
  let mark: MarkState | undefined;
  let markUnreadable = false;
  try {
    mark = readMark(file);
  } catch {
    markUnreadable = true;
  }
  const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
  const aside = `${file}.damaged-${stamp}`;
  const salvageFile = existsSync(file) ? `${file}.salvaged-${stamp}.db` : null;
  const found = salvageFile
    ? salvage(file, salvageFile)
    : { ...emptySalvage(), unreadable: 'the main file is missing' };

  const lastSalvaged = found.seqs.last()?.[1] ?? 0;
  const issuedThrough = Math.max(
    mark ? mark.next - 1 : 0,
    (found.nextSeq ?? 1) - 1,
    lastSalvaged,
    options.issuedAtLeast ?? 0,
  );
  if (!mark && found.nextSeq === undefined && options.issuedAtLeast === undefined) {
    if (salvageFile) rmSync(salvageFile, { force: true });
    throw refuse(
      file,
      'neither the high-water mark nor the damaged file says how far its seqs went; give ' +
        "'--issued-at-least SEQ' (the platform's highest seq from this log, plus a margin)",
    );
  }
  const firstSeq = Math.max(mark?.reserved ?? 0, issuedThrough) + 1;

  const moved: [string, string][] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(file + suffix)) continue;
    renameSync(file + suffix, aside + suffix);
    moved.push([file + suffix, aside + suffix]);
  }
  if (markUnreadable) {
    renameSync(markPath(file), `${markPath(file)}.damaged-${stamp}`);
    moved.push([markPath(file), `${markPath(file)}.damaged-${stamp}`]);
  }

  const missing = found.seqs.missingIn(found.deliveredThrough + 1, issuedThrough);
  const unrecoverableCount = missing.reduce((n, [a, b]) => n + b - a + 1, 0);
  const log = openLog({ path: file, startSeq: firstSeq, logger });
  try {
    const previousLogId = found.logId ?? mark?.logId ?? null;
    const payload = {
      previousLogId,
      logId: log.logId,
      firstSeq,
      issuedThrough,
      damagedFile: aside,
      salvageFile,
      salvaged: found.rows,
      deliveredThrough: found.deliveredThrough,
      unrecoverable: missing.slice(0, MAX_RANGES),
      unrecoverableCount,
    };
    const eventSeq = log.appendEvent({ ts: clock.now(), kind: 'log_recovered', payload });
    logger.error({ file, ...payload }, 'log recovered: a new log replaces the damaged one');
    return {
      file,
      moved,
      salvageFile,
      salvaged: found.rows,
      ...(found.unreadable === undefined ? {} : { unreadable: found.unreadable }),
      previousLogId,
      logId: log.logId,
      firstSeq,
      issuedThrough,
      unrecoverable: missing,
      unrecoverableCount,
      eventSeq,
    };
  } finally {
    log.close();
  }
}
