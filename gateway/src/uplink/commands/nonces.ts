/**
 * Nonces of accepted and refused commands, kept in the log's SQLite file so that a command
 * replayed after a restart is refused too. A nonce is remembered for as long as its command could
 * still pass the age check (twice `maxAgeMs`, for clocks on both sides of the gateway's).
 */
import type { SqliteDb } from '../../store/schema.js';

export class NonceBook {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    private readonly keepMs: number,
  ) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS command_nonces (nonce TEXT PRIMARY KEY, seen INTEGER NOT NULL) WITHOUT ROWID',
    );
    this.stmt = {
      add: db.prepare('INSERT OR IGNORE INTO command_nonces (nonce, seen) VALUES (?, ?)'),
      prune: db.prepare('DELETE FROM command_nonces WHERE seen < ?'),
    };
  }

  /** Records the nonce; false when it was seen before (a replay). */
  take(nonce: string, now: number): boolean {
    this.stmt.prune.run(now - this.keepMs);
    return this.stmt.add.run(nonce, now).changes === 1;
  }
}
