/**
 * The state the scale-out receiver's consumers share: one SQLite file in WAL mode. Several
 * consumer processes behind one MQTT shared subscription receive the messages of one gateway in
 * turn, so no process alone can judge a chain or a seq range. Each message is checked (signature,
 * hash) in the process that got it, in parallel; what it means for continuity is decided here,
 * in one short write transaction per message, which SQLite runs one at a time across processes.
 *
 * Judgements that depend on what may still arrive at another consumer (a missing predecessor, a
 * missing seq) wait `settleMs` and are made by a judge pass any consumer may run; findings carry
 * a unique key, so each is recorded exactly once whichever consumer saw it first.
 *
 * The hand-over interface is the `records` table: one row per verified record (gateway, log
 * epoch, seq), rowids ascending in commit order, so a downstream reader tails it by rowid.
 */
import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import { LantianError } from '../../core/errors.js';
import type { SqliteDb } from '../../store/schema.js';

/** What the shared receiver reports. `duplicate` deliveries are counted, not reported: QoS 1 allows them. */
export type SharedFindingKind =
  'malformed' | 'unsigned' | 'wrong_key' | 'bad_signature' | 'broken_chain' | 'fork' | 'conflict' | 'gap';

export interface SharedFinding {
  kind: SharedFindingKind;
  gateway: string;
  log: string;
  chain: string;
  /** First and last seq concerned; 0 when the message carried none. */
  first: number;
  last: number;
  detail: string;
  /** The consumer that recorded it. */
  consumer: string;
  atMs: number;
}

export interface StoredRecord {
  /** Rowid: ascending in commit order across every consumer. */
  id: number;
  gateway: string;
  log: string;
  seq: number;
  /** data, agg, events or blob/<kind>. */
  kind: string;
  /** The record as the gateway signed it (a reading, an aggregate, or the whole event / blob message). */
  body: string;
}

/** One record message, checked by the consumer that received it. */
export interface IncomingMessage {
  gateway: string;
  log: string;
  chain: string;
  hash: string;
  prev: string | null;
  first: number;
  last: number;
  /** The signature holds under the gateway's registered key. */
  good: boolean;
  /** seq and JSON of each record; empty when the signature failed (nothing is handed on). */
  records: { seq: number; body: string }[];
  /** A gap event's announced range. */
  announced?: [number, number];
}

export interface IngestResult {
  /** The same message (same hash) was stored before: nothing was taken again. */
  duplicate: boolean;
  /** Records handed on for the first time. */
  fresh: StoredRecord[];
  findings: SharedFinding[];
}

export interface EpochRow {
  gateway: string;
  log: string;
  low: number;
  high: number;
  records: number;
  messages: number;
  deliveries: number;
  judgedThrough: number;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS messages (
    gateway TEXT NOT NULL, log TEXT NOT NULL, chain TEXT NOT NULL, hash TEXT NOT NULL,
    prev TEXT, first INTEGER NOT NULL, last INTEGER NOT NULL, good INTEGER NOT NULL,
    consumer TEXT NOT NULL, arrived_ms INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1, judged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway, log, hash)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS messages_prev ON messages (gateway, log, chain, prev);
  CREATE INDEX IF NOT EXISTS messages_last ON messages (gateway, log, chain, last);
  CREATE INDEX IF NOT EXISTS messages_unjudged ON messages (judged, arrived_ms);
  CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY, gateway TEXT NOT NULL, log TEXT NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, body TEXT NOT NULL, message TEXT NOT NULL,
    UNIQUE (gateway, log, seq)
  );
  CREATE TABLE IF NOT EXISTS explained (
    gateway TEXT NOT NULL, log TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    why TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS explained_epoch ON explained (gateway, log);
  CREATE TABLE IF NOT EXISTS epochs (
    gateway TEXT NOT NULL, log TEXT NOT NULL, low INTEGER NOT NULL, high INTEGER NOT NULL,
    judged_through INTEGER NOT NULL, due_through INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway, log)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS health_marks (
    gateway TEXT NOT NULL, log TEXT NOT NULL, acked_through INTEGER NOT NULL, received_ms INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, gateway TEXT NOT NULL, log TEXT NOT NULL,
    chain TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, detail TEXT NOT NULL,
    consumer TEXT NOT NULL, at_ms INTEGER NOT NULL,
    UNIQUE (kind, gateway, log, chain, first, last)
  );
`;

const same = (a: string, b: string): boolean =>
  canonicalize(JSON.parse(a) as unknown) === canonicalize(JSON.parse(b) as unknown);

export interface ReceiverStoreOptions {
  /** Name of this consumer, kept with what it recorded. */
  consumer: string;
  /** How long a missing predecessor or seq may still be on its way through another consumer (ms). */
  settleMs: number;
  /** How long a write waits for another consumer's transaction (ms); default 30 000. */
  busyTimeoutMs?: number;
}

export class ReceiverStore {
  readonly db: SqliteDb;
  private readonly stmt;

  constructor(
    readonly path: string,
    private readonly options: ReceiverStoreOptions,
  ) {
    try {
      this.db = new Database(path, { timeout: options.busyTimeoutMs ?? 30_000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(TABLES);
    } catch (cause) {
      throw new LantianError(
        'INTEGRITY_RECEIVER_STORE',
        `cannot open the receiver store ${path}: ${(cause as Error).message}`,
        { cause, context: { file: path } },
      );
    }
    const db = this.db;
    this.stmt = {
      message: db.prepare('SELECT good FROM messages WHERE gateway = ? AND log = ? AND hash = ?').pluck(),
      redelivered: db.prepare(
        'UPDATE messages SET deliveries = deliveries + 1 WHERE gateway = ? AND log = ? AND hash = ?',
      ),
      addMessage: db.prepare(
        `INSERT INTO messages (gateway, log, chain, hash, prev, first, last, good, consumer, arrived_ms)
         VALUES (@gateway, @log, @chain, @hash, @prev, @first, @last, @good, @consumer, @arrived)`,
      ),
      sibling: db
        .prepare(
          `SELECT hash FROM messages WHERE gateway = ? AND log = ? AND chain = ? AND prev = ? AND good = 1
           AND hash <> ? LIMIT 1`,
        )
        .pluck(),
      addRecord: db.prepare(
        'INSERT INTO records (gateway, log, seq, kind, body, message) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      record: db.prepare('SELECT body FROM records WHERE gateway = ? AND log = ? AND seq = ?').pluck(),
      explain: db.prepare('INSERT INTO explained (gateway, log, first, last, why) VALUES (?, ?, ?, ?, ?)'),
      epoch: db.prepare(
        `INSERT INTO epochs (gateway, log, low, high, judged_through) VALUES (@gateway, @log, @first, @last, 0)
         ON CONFLICT (gateway, log) DO UPDATE SET low = min(low, excluded.low), high = max(high, excluded.high)`,
      ),
      finding: db.prepare(
        `INSERT INTO findings (kind, gateway, log, chain, first, last, detail, consumer, at_ms)
         VALUES (@kind, @gateway, @log, @chain, @first, @last, @detail, @consumer, @atMs) ON CONFLICT DO NOTHING`,
      ),
      mark: db.prepare(
        'INSERT INTO health_marks (gateway, log, acked_through, received_ms) VALUES (?, ?, ?, ?)',
      ),
      unjudged: db.prepare(
        `SELECT gateway, log, chain, hash, prev, first, last, arrived_ms AS arrived FROM messages
         WHERE judged = 0 AND good = 1 AND arrived_ms <= ? ORDER BY gateway, log, chain, first`,
      ),
      byHash: db.prepare('SELECT 1 FROM messages WHERE gateway = ? AND log = ? AND hash = ?').pluck(),
      earlierRoot: db
        .prepare(
          `SELECT 1 FROM messages WHERE gateway = @gateway AND log = @log AND chain = @chain
           AND prev IS NULL AND good = 1 AND hash <> @hash
           AND (arrived_ms < @arrived OR (arrived_ms = @arrived AND hash < @hash)) LIMIT 1`,
        )
        .pluck(),
      lower: db.prepare(
        `SELECT good FROM messages WHERE gateway = ? AND log = ? AND chain = ? AND last < ?
         ORDER BY last DESC LIMIT 1`,
      ),
      judged: db.prepare('UPDATE messages SET judged = 1 WHERE gateway = ? AND log = ? AND hash = ?'),
      settledMarks: db.prepare(
        `SELECT gateway, log, max(acked_through) AS acked FROM health_marks WHERE received_ms <= ?
         GROUP BY gateway, log`,
      ),
      dropMarks: db.prepare('DELETE FROM health_marks WHERE received_ms <= ?'),
      due: db.prepare('UPDATE epochs SET due_through = max(due_through, ?) WHERE gateway = ? AND log = ?'),
      epochs: db.prepare('SELECT gateway, log, low, high, judged_through, due_through FROM epochs'),
      seqs: db
        .prepare('SELECT seq FROM records WHERE gateway = ? AND log = ? AND seq BETWEEN ? AND ? ORDER BY seq')
        .pluck(),
      explainedIn: db
        .prepare(
          'SELECT first, last FROM explained WHERE gateway = ? AND log = ? AND last >= ? AND first <= ?',
        )
        .raw(),
      setJudged: db.prepare('UPDATE epochs SET judged_through = ? WHERE gateway = ? AND log = ?'),
    };
  }

  private find(f: Omit<SharedFinding, 'consumer' | 'atMs'>, into: SharedFinding[]): void {
    const full = { ...f, consumer: this.options.consumer, atMs: Date.now() };
    if (this.stmt.finding.run(full).changes > 0) into.push(full);
  }

  /** Records a finding about a message that never reached the chains (malformed, unsigned, wrong key). */
  report(f: Omit<SharedFinding, 'consumer' | 'atMs'>): SharedFinding[] {
    const out: SharedFinding[] = [];
    this.find(f, out);
    return out;
  }

  /** Takes one checked record message: in one transaction, so consumers never interleave inside it. */
  ingest(m: IncomingMessage, arrivedMs = Date.now()): IngestResult {
    return this.db
      .transaction((): IngestResult => {
        const result: IngestResult = { duplicate: false, fresh: [], findings: [] };
        const at = { gateway: m.gateway, log: m.log, chain: m.chain, first: m.first, last: m.last };
        if (this.stmt.message.get(m.gateway, m.log, m.hash) !== undefined) {
          this.stmt.redelivered.run(m.gateway, m.log, m.hash);
          result.duplicate = true;
          return result;
        }
        this.stmt.addMessage.run({
          ...m,
          good: m.good ? 1 : 0,
          consumer: this.options.consumer,
          arrived: arrivedMs,
        });
        this.stmt.epoch.run({ gateway: m.gateway, log: m.log, first: m.first, last: m.last });
        if (!m.good) {
          // Its seqs are accounted for (rejected, reported here), not missing.
          this.stmt.explain.run(m.gateway, m.log, m.first, m.last, 'bad_signature');
          this.find(
            {
              ...at,
              kind: 'bad_signature',
              detail: 'the signature does not match the content: altered in transit or in storage',
            },
            result.findings,
          );
          return result;
        }
        if (m.prev !== null) {
          const other = this.stmt.sibling.get(m.gateway, m.log, m.chain, m.prev, m.hash) as
            string | undefined;
          if (other !== undefined)
            this.find(
              {
                ...at,
                kind: 'fork',
                detail: `a second message names the same predecessor ${m.prev.slice(0, 12)}…`,
              },
              result.findings,
            );
        }
        for (const r of m.records) {
          const row = this.stmt.addRecord.run(m.gateway, m.log, r.seq, m.chain, r.body, m.hash);
          if (row.changes > 0) {
            result.fresh.push({
              id: Number(row.lastInsertRowid),
              gateway: m.gateway,
              log: m.log,
              seq: r.seq,
              kind: m.chain,
              body: r.body,
            });
            continue;
          }
          const had = this.stmt.record.get(m.gateway, m.log, r.seq) as string;
          if (!same(had, r.body))
            this.find(
              {
                ...at,
                first: r.seq,
                last: r.seq,
                kind: 'conflict',
                detail: `record ${r.seq} arrived before with different content`,
              },
              result.findings,
            );
        }
        if (m.announced) this.stmt.explain.run(m.gateway, m.log, m.announced[0], m.announced[1], 'gap_event');
        return result;
      })
      .immediate();
  }

  /** The gateway says (retained health) it has delivered every seq of `log` up to `ackedThrough`. */
  health(gateway: string, log: string, ackedThrough: number, receivedMs = Date.now()): void {
    this.stmt.mark.run(gateway, log, ackedThrough, receivedMs);
  }

  /**
   * Judges what has settled: chain links whose message arrived `settleMs` ago, and seqs the gateway
   * said it delivered `settleMs` ago. `final` judges everything now (the end of a test or an
   * audit: nothing more is coming). Returns the findings this call recorded.
   */
  judge(options: { final?: boolean; nowMs?: number } = {}): SharedFinding[] {
    const now = options.nowMs ?? Date.now();
    const settled = options.final ? Number.MAX_SAFE_INTEGER : now - this.options.settleMs;
    return this.db
      .transaction((): SharedFinding[] => {
        const out: SharedFinding[] = [];
        this.judgeLinks(settled, out);
        this.judgeSeqs(settled, options.final === true, out);
        return out;
      })
      .immediate();
  }

  private judgeLinks(settled: number, out: SharedFinding[]): void {
    type Row = Pick<IncomingMessage, 'gateway' | 'log' | 'chain' | 'hash' | 'prev' | 'first' | 'last'> & {
      arrived: number;
    };
    for (const n of this.stmt.unjudged.all(settled) as Row[]) {
      this.stmt.judged.run(n.gateway, n.log, n.hash);
      if (n.prev === null) {
        // A chain follows the order messages were sealed in, which is not seq order: live
        // messages go out before an older backlog, so the chain's first message may carry any
        // seq. A second start of one chain in one epoch is the break; the first start is not.
        const { gateway, log, chain, hash, arrived } = n;
        if (this.stmt.earlierRoot.get({ gateway, log, chain, hash, arrived }) === undefined) continue;
      } else {
        if (this.stmt.byHash.get(n.gateway, n.log, n.prev) !== undefined) continue;
        // The nearest earlier message of the chain that did arrive, if any.
        const lower = this.stmt.lower.get(n.gateway, n.log, n.chain, n.first) as { good: number } | undefined;
        // Nothing earlier: the platform joined this chain here. An altered predecessor: already reported.
        if (lower === undefined || lower.good === 0) continue;
      }
      this.find(
        {
          gateway: n.gateway,
          log: n.log,
          chain: n.chain,
          first: n.first,
          last: n.last,
          kind: 'broken_chain',
          detail:
            n.prev === null
              ? 'the chain starts again inside the same log epoch: the signer lost its place'
              : `its predecessor ${n.prev.slice(0, 12)}… never arrived: a message is missing before seq ${n.first}`,
        },
        out,
      );
    }
  }

  private judgeSeqs(settled: number, final: boolean, out: SharedFinding[]): void {
    for (const m of this.stmt.settledMarks.all(settled) as { gateway: string; log: string; acked: number }[])
      this.stmt.due.run(m.acked, m.gateway, m.log);
    this.stmt.dropMarks.run(settled);
    type Row = {
      gateway: string;
      log: string;
      low: number;
      high: number;
      judged_through: number;
      due_through: number;
    };
    for (const e of this.stmt.epochs.all() as Row[]) {
      const from = Math.max(e.judged_through, e.low - 1) + 1;
      const to = final ? Math.max(e.high, e.due_through) : e.due_through;
      if (to < from) continue;
      const explained = this.stmt.explainedIn.all(e.gateway, e.log, from, to) as [number, number][];
      const isExplained = (s: number) => explained.some(([a, b]) => s >= a && s <= b);
      let expect = from;
      const holes: [number, number][] = [];
      for (const s of [...(this.stmt.seqs.all(e.gateway, e.log, from, to) as number[]), to + 1]) {
        for (let x = expect; x < s; x++) {
          if (isExplained(x)) continue;
          const last = holes.at(-1);
          if (last && last[1] === x - 1) last[1] = x;
          else holes.push([x, x]);
        }
        expect = s + 1;
      }
      for (const [a, b] of holes)
        this.find(
          {
            gateway: e.gateway,
            log: e.log,
            chain: '',
            first: a,
            last: b,
            kind: 'gap',
            detail: `seqs ${a}–${b} never arrived and no gap event announced them`,
          },
          out,
        );
      this.stmt.setJudged.run(to, e.gateway, e.log);
    }
  }

  findings(): SharedFinding[] {
    return (
      this.db
        .prepare(
          `SELECT kind, gateway, log, chain, first, last, detail, consumer, at_ms AS atMs FROM findings ORDER BY id`,
        )
        .all() as SharedFinding[]
    ).map((f) => ({ ...f }));
  }

  /** Verified records after rowid `afterId`, in commit order: how a downstream reader tails the store. */
  records(afterId = 0, limit = 10_000): StoredRecord[] {
    return this.db
      .prepare('SELECT id, gateway, log, seq, kind, body FROM records WHERE id > ? ORDER BY id LIMIT ?')
      .all(afterId, limit) as StoredRecord[];
  }

  epochs(): EpochRow[] {
    return this.db
      .prepare(
        `SELECT e.gateway, e.log, e.low, e.high, e.judged_through AS judgedThrough,
           (SELECT count(*) FROM records r WHERE r.gateway = e.gateway AND r.log = e.log) AS records,
           (SELECT count(*) FROM messages m WHERE m.gateway = e.gateway AND m.log = e.log) AS messages,
           (SELECT coalesce(sum(deliveries), 0) FROM messages m WHERE m.gateway = e.gateway AND m.log = e.log) AS deliveries
         FROM epochs e ORDER BY e.gateway, e.log`,
      )
      .all() as EpochRow[];
  }

  close(): void {
    this.db.close();
  }
}
