/**
 * The high-water mark: a small file beside the log (`log.db.mark`) that remembers, outside the
 * database, how far the sequence has gone. A log whose WAL was deleted, or a backup put back in
 * place, is behind its mark: the log then starts a new epoch above it instead of giving the
 * same seqs to new records (docs/store.md, "A log that went back in time").
 *
 * It holds two numbers. `reserved` is written and fsynced before any seq above it is committed
 * (in blocks, so it costs one fsync per block): no seq ever issued is above it, even after a
 * power cut. `next` is the exact next seq, rewritten after every commit without an fsync: it
 * survives a killed process just as the WAL does, so it tells a lost WAL from a plain restart.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LantianError } from '../core/errors.js';

export interface MarkState {
  /** The `log_id` of the log this mark belongs to. */
  logId: string;
  /** Boot counter of the last start. */
  boot: number;
  /** The next seq the log gives out, as of its last commit. */
  next: number;
  /** No seq above this was ever given out. */
  reserved: number;
}

/** Seqs reserved ahead with each fsync of the mark. */
export const RESERVE_BLOCK = 16_384;
/** The mark is one fixed-size record, rewritten in place. */
const RECORD_BYTES = 160;

export const markPath = (logPath: string) => `${logPath}.mark`;

/** Reads the mark beside a log; undefined when there is none. Throws STORE_CORRUPT if unreadable. */
export function readMark(logPath: string): MarkState | undefined {
  const file = markPath(logPath);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  try {
    const m = JSON.parse(text) as Partial<MarkState>;
    const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
    if (typeof m.logId === 'string' && whole(m.boot) && whole(m.next) && whole(m.reserved)) {
      return { logId: m.logId, boot: m.boot, next: m.next, reserved: m.reserved };
    }
  } catch {
    // Reported below with the file's name.
  }
  throw new LantianError(
    'STORE_CORRUPT',
    `${file}: the log's high-water mark is unreadable (${JSON.stringify(text.slice(0, 80))}). ` +
      `Run 'lantian log recover ${logPath}' to start a new log safely above every seq the old one may have issued.`,
    { context: { file } },
  );
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The open mark file of a running log. */
export class SeqMark {
  private readonly fd: number;
  private state: MarkState;

  /** Opens (or creates) the mark and writes `state` durably. */
  constructor(
    readonly logPath: string,
    state: MarkState,
  ) {
    const file = markPath(logPath);
    const created = !existsSync(file);
    this.fd = openSync(file, created ? 'w+' : 'r+');
    this.state = { ...state };
    this.write(true);
    if (created) syncDir(dirname(file));
  }

  get current(): Readonly<MarkState> {
    return this.state;
  }

  /** Makes sure every seq up to `last` is reserved, fsyncing a new block when needed. */
  reserve(last: number): void {
    if (last <= this.state.reserved) return;
    this.state.reserved = last + RESERVE_BLOCK;
    this.write(true);
  }

  /** Records the next seq after a commit: no fsync, as durable as the WAL itself. */
  advance(next: number, sync = false): void {
    this.state.next = next;
    this.write(sync);
  }

  /** The log started a new epoch under this id. */
  adopt(logId: string): void {
    this.state.logId = logId;
    this.write(true);
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(sync: boolean): void {
    const json = JSON.stringify(this.state);
    const buf = Buffer.alloc(RECORD_BYTES, ' ');
    buf.write(json, 'utf8');
    buf[RECORD_BYTES - 1] = 0x0a;
    writeSync(this.fd, buf, 0, RECORD_BYTES, 0);
    if (sync) fsyncSync(this.fd);
  }
}
