/**
 * The seal ledger: what an uplink signed and has not yet had acknowledged, and the head of each
 * of its chains, kept in the log's own SQLite file. A message is sealed once, written here in the
 * same transaction that moves its chain head, and only then published; a resend (after a lost
 * connection, a restart or a kill -9) takes the stored bytes, so it carries the signature and the
 * predecessor it had the first time and the chain never forks. Once its chunk of the log is
 * acknowledged a message moves to the archive, where the newest `ARCHIVE_MESSAGES` stay so that a
 * platform can ask for them again (the `resend` command) and get the very bytes it got first.
 */
import { LantianError } from '../../core/errors.js';
import type { SqliteDb } from '../../store/schema.js';

/** One sealed message as it went out the first time (its `lane` may differ on a resend). */
export interface SealedMessage {
  topic: string;
  payload: string;
}

/** A chunk of the log (seqs `from..to`) and the sealed messages built from it, in sealing order. */
export interface SealedChunk {
  from: number;
  to: number;
  messages: SealedMessage[];
}

/** Sealed messages kept after their acknowledgement, for `resend`; older ones are dropped. */
export const ARCHIVE_MESSAGES = 20_000;
/**
 * And at most this many bytes of them: the archive lives in the log's file, so it counts against
 * the storage quota, where readings come first. A sixteenth of the quota, up to 8 MiB (the newest
 * few hours of live messages, or a few dozen backlog batches).
 */
export function archiveBytes(quotaBytes: number | undefined): number {
  const cap = 8 * 1024 * 1024;
  return quotaBytes === undefined ? cap : Math.min(cap, Math.floor(quotaBytes / 16));
}

/** Sealed messages with their chunk: those awaiting acknowledgement, and the archive. */
const messageTable = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (
    id INTEGER PRIMARY KEY,
    uplink TEXT NOT NULL,
    chunk_from INTEGER NOT NULL,
    chunk_to INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL
  );`;

const TABLES = `
  CREATE TABLE IF NOT EXISTS seal_heads (
    uplink TEXT NOT NULL,
    chain_key TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (uplink, chain_key)
  ) WITHOUT ROWID;
  ${messageTable('seal_pending')}
  ${messageTable('seal_archive')}
  CREATE INDEX IF NOT EXISTS seal_archive_by_chunk ON seal_archive (uplink, chunk_to);
  CREATE TABLE IF NOT EXISTS seal_keys (
    uplink TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
  ) WITHOUT ROWID;
`;

export class SealLedger {
  private readonly stmt;
  private forgotten = 0;

  constructor(
    private readonly db: SqliteDb,
    readonly uplink: string,
    /** Bytes of acknowledged messages the archive keeps (see `archiveBytes`). */
    private readonly archiveBudget = archiveBytes(undefined),
  ) {
    db.exec(TABLES);
    this.stmt = {
      heads: db.prepare('SELECT chain_key, hash FROM seal_heads WHERE uplink = ?').raw(),
      setHead: db.prepare(
        `INSERT INTO seal_heads (uplink, chain_key, hash) VALUES (?, ?, ?)
         ON CONFLICT (uplink, chain_key) DO UPDATE SET hash = excluded.hash`,
      ),
      pending: db
        .prepare('SELECT chunk_from, chunk_to, topic, payload FROM seal_pending WHERE uplink = ? ORDER BY id')
        .raw(),
      insert: db.prepare(
        'INSERT INTO seal_pending (uplink, chunk_from, chunk_to, topic, payload) VALUES (?, ?, ?, ?, ?)',
      ),
      forget: db.prepare('DELETE FROM seal_pending WHERE uplink = ? AND chunk_from = ? AND chunk_to = ?'),
      archive: db.prepare(
        `INSERT INTO seal_archive (uplink, chunk_from, chunk_to, topic, payload)
         SELECT uplink, chunk_from, chunk_to, topic, payload FROM seal_pending
         WHERE uplink = ? AND chunk_from = ? AND chunk_to = ? ORDER BY id`,
      ),
      trim: db.prepare(
        `DELETE FROM seal_archive WHERE uplink = @uplink AND id <= (
           SELECT id FROM seal_archive WHERE uplink = @uplink ORDER BY id DESC LIMIT 1 OFFSET @keep)`,
      ),
      trimBytes: db.prepare(
        `DELETE FROM seal_archive WHERE uplink = @uplink AND id <= (
           SELECT id FROM (
             SELECT id, SUM(length(CAST(payload AS BLOB))) OVER (ORDER BY id DESC) AS newer
             FROM seal_archive WHERE uplink = @uplink)
           WHERE newer > @bytes ORDER BY id DESC LIMIT 1)`,
      ),
      sealed: db
        .prepare(
          `SELECT chunk_from, chunk_to, topic, payload FROM (
             SELECT id, 0 AS pending, chunk_from, chunk_to, topic, payload FROM seal_archive
             WHERE uplink = @uplink AND chunk_to >= @from AND chunk_from <= @to
             UNION ALL
             SELECT id, 1 AS pending, chunk_from, chunk_to, topic, payload FROM seal_pending
             WHERE uplink = @uplink AND chunk_to >= @from AND chunk_from <= @to)
           ORDER BY pending, id`,
        )
        .raw(),
      key: db.prepare('SELECT fingerprint FROM seal_keys WHERE uplink = ?').pluck(),
      setKey: db.prepare(
        `INSERT INTO seal_keys (uplink, fingerprint) VALUES (?, ?)
         ON CONFLICT (uplink) DO UPDATE SET fingerprint = excluded.fingerprint`,
      ),
    };
  }

  /** Chain heads as the Signer takes them: `<log>/<chain>` → hash of the last sealed message. */
  heads(): [string, string][] {
    return this.stmt.heads.all(this.uplink) as [string, string][];
  }

  /** The fingerprint of the key that sealed last, or undefined before the first seal. */
  lastKey(): string | undefined {
    return this.stmt.key.get(this.uplink) as string | undefined;
  }

  /**
   * Sealed messages not yet acknowledged, chunk by chunk in the order they were sealed. Chunks
   * that `isDone` (acknowledged, but the process ended before their rows were deleted) are
   * dropped here.
   */
  pending(isDone: (from: number, to: number) => boolean): SealedChunk[] {
    const chunks: SealedChunk[] = [];
    const stale: [number, number][] = [];
    for (const [from, to, topic, payload] of this.stmt.pending.all(this.uplink) as [
      number,
      number,
      string,
      string,
    ][]) {
      if (isDone(from, to)) {
        if (!stale.some(([a, b]) => a === from && b === to)) stale.push([from, to]);
        continue;
      }
      const last = chunks.at(-1);
      if (last && last.from === from && last.to === to) last.messages.push({ topic, payload });
      else chunks.push({ from, to, messages: [{ topic, payload }] });
    }
    for (const [from, to] of stale) this.forget(from, to);
    return chunks;
  }

  /**
   * Stores a chunk's sealed messages and the chain heads they lead to, in one transaction: either
   * both are on disk before anything is published, or neither is (and the caller seals again).
   */
  record(chunk: SealedChunk, heads: readonly [string, string][], keyFingerprint: string): void {
    try {
      this.db
        .transaction(() => {
          for (const m of chunk.messages)
            this.stmt.insert.run(this.uplink, chunk.from, chunk.to, m.topic, m.payload);
          for (const [key, hash] of heads) this.stmt.setHead.run(this.uplink, key, hash);
          this.stmt.setKey.run(this.uplink, keyFingerprint);
        })
        .immediate();
    } catch (e) {
      throw new LantianError(
        'STORE_WRITE_FAILED',
        `cannot record sealed messages ${chunk.from}..${chunk.to} (${(e as Error).message})`,
        { cause: e, context: { uplink: this.uplink, from: chunk.from, to: chunk.to } },
      );
    }
  }

  /**
   * Moves an acknowledged chunk to the archive (and trims the archive to its newest
   * `ARCHIVE_MESSAGES`, and to `archiveBytes` of them). A failure is harmless (the rows are dropped at the next start, their
   * chunk being done; only a later resend of them is refused), so it is reported, not thrown.
   */
  forget(from: number, to: number): boolean {
    try {
      this.db.transaction(() => {
        this.stmt.archive.run(this.uplink, from, to);
        this.stmt.forget.run(this.uplink, from, to);
        // Trimming walks the archive's newest rows: done now and then, not on every chunk.
        if (++this.forgotten % 64 === 1) {
          this.stmt.trim.run({ uplink: this.uplink, keep: ARCHIVE_MESSAGES });
          this.stmt.trimBytes.run({ uplink: this.uplink, bytes: this.archiveBudget });
        }
      })();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The sealed messages of every chunk that overlaps seqs `from..to`, acknowledged ones first,
   * each group in sealing order: the bytes as they first went out.
   */
  sealed(from: number, to: number): SealedChunk[] {
    const chunks: SealedChunk[] = [];
    for (const [cf, ct, topic, payload] of this.stmt.sealed.all({ uplink: this.uplink, from, to }) as [
      number,
      number,
      string,
      string,
    ][]) {
      const last = chunks.at(-1);
      if (last && last.from === cf && last.to === ct) last.messages.push({ topic, payload });
      else chunks.push({ from: cf, to: ct, messages: [{ topic, payload }] });
    }
    return chunks;
  }
}
