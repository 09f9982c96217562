/**
 * A look at a log file without opening it for writing, for `check-config --plan`: the highest
 * seq given out and each uplink's cursor. Read-only, so it never checkpoints the WAL or writes
 * a cursor. A running gateway holds the log's exclusive lock: that gives STORE_LOCKED (its
 * health message says the same live).
 */
import { existsSync } from 'node:fs';
import { LantianError } from '../core/errors.js';
import type { CursorSnapshot } from './cursors.js';
import type { SeqRange } from './ranges.js';
import { APPLICATION_ID, readOnly } from './schema.js';

export interface LogPeek {
  logId: string;
  /** Highest sequence number ever given out (0 when none). */
  lastSeq: number;
  cursors: CursorSnapshot[];
}

/** undefined when there is no log file yet; throws a coded LantianError when it cannot be read. */
export function peekLog(path: string): LogPeek | undefined {
  if (!existsSync(path)) return undefined;
  return readOnly(path, (db) => {
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID)
      throw new LantianError('STORE_NOT_A_LOG', `${path}: this SQLite file is not a Lantian log`, {
        context: { file: path },
      });
    const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    const rows = db.prepare('SELECT uplink, prefix, ranges FROM cursors ORDER BY uplink').all() as {
      uplink: string;
      prefix: number;
      ranges: string;
    }[];
    return {
      logId: String(meta('log_id')),
      lastSeq: Number(meta('next_seq') ?? 1) - 1,
      cursors: rows.map((r) => ({
        uplink: r.uplink,
        prefix: r.prefix,
        ranges: JSON.parse(r.ranges) as SeqRange[],
      })),
    };
  });
}
