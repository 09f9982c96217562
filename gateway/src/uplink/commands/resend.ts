/**
 * `resend`: the platform asks for a seq range, or a time range, again (it lost what it received,
 * or a verifier reported a gap). The MQTT uplink sends it on the replay lane, sealed messages as
 * the bytes first sent (publisher.ts `resend`). Bounded: a range of more than `MAX_RESEND_SEQS`
 * seqs or `MAX_RESEND_MESSAGES` messages is refused, to be asked for in parts.
 */
import { z } from 'zod';
import { isLantianError } from '../../core/errors.js';
import type { Log } from '../../store/log.js';
import type { MqttPublisher } from '../mqtt/publisher.js';
import { recordTs } from '../mqtt/messages.js';
import { CommandRefusal, type CommandRegistry } from './registry.js';

export const MAX_RESEND_SEQS = 100_000;
export const MAX_RESEND_MESSAGES = 2_000;

const seq = z.number().int().min(1);
const ms = z.number().int().nonnegative();
export const resendArgs = z.union([
  z.object({ from: seq, to: seq }).strict().describe('Seqs from..to, both included.'),
  z
    .object({ fromTs: ms, toTs: ms })
    .strict()
    .describe('Records stamped fromTs..toTs (UTC ms, both included).'),
]);

/** The record at `seq` or the first after it. */
const atOrAfter = (log: Log, seq: number) => log.read(seq - 1, 1)[0];

/** The smallest seq whose record (or the next one after it) is stamped at or after `ts`. */
function firstSeqFrom(log: Log, ts: number, inclusive: boolean): number {
  let lo = 1;
  let hi = log.lastSeq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = atOrAfter(log, mid);
    if (!r || (inclusive ? recordTs(r) >= ts : recordTs(r) > ts)) hi = mid;
    else lo = r.seq + 1;
  }
  return lo;
}

/** Seqs either side of the bisected range searched for records stamped out of order. */
const SLACK_SEQS = 10_000;

const STAMPED = ['readings:ts', 'events:ts', 'blobs:ts', 'aggregates:start'].map((t) => {
  const [table, ts] = t.split(':');
  return `SELECT min(seq) AS lo, max(seq) AS hi FROM ${table} WHERE seq BETWEEN @a AND @b AND ${ts} BETWEEN @fromTs AND @toTs`;
});

/**
 * The seqs from the first to the last record stamped `fromTs..toTs`; undefined when none is.
 * Records are appended in time order but not strictly (the reads of one poll are stamped one by
 * one, devices' polls interleave), so the log is bisected on time and then searched exactly
 * within `SLACK_SEQS` of what the bisection found, by seq (the primary key): never a full scan.
 */
export function seqsBetween(
  log: Log,
  fromTs: number,
  toTs: number,
): { from: number; to: number } | undefined {
  const a = Math.max(1, firstSeqFrom(log, fromTs, true) - SLACK_SEQS);
  const b = firstSeqFrom(log, toTs, false) + SLACK_SEQS;
  const rows = STAMPED.map(
    (sql) =>
      log.database.prepare(sql).get({ a, b, fromTs, toTs }) as { lo: number | null; hi: number | null },
  );
  const los = rows.flatMap((r) => (r.lo === null ? [] : [r.lo]));
  const his = rows.flatMap((r) => (r.hi === null ? [] : [r.hi]));
  if (los.length === 0) return undefined;
  return { from: Math.min(...los), to: Math.max(...his) };
}

export function registerResend(
  registry: CommandRegistry,
  log: Log,
  publisher: MqttPublisher | undefined,
): void {
  if (!publisher) {
    registry.markUnavailable('resend', 'this gateway has no MQTT uplink to send on');
    return;
  }
  registry.register('resend', {
    summary: 'Sends a seq or time range of the log again on the replay lane, sealed as first sent.',
    args: resendArgs,
    run: async (args) => {
      const range = 'from' in args ? args : seqsBetween(log, args.fromTs, args.toTs);
      if (!range) throw new CommandRefusal('out_of_range', 'no record is stamped in the time range asked');
      if (range.to < range.from)
        throw new CommandRefusal('out_of_range', `to (${range.to}) is before from (${range.from})`);
      if (range.to - range.from + 1 > MAX_RESEND_SEQS)
        throw new CommandRefusal(
          'out_of_range',
          `${range.to - range.from + 1} seqs, more than ${MAX_RESEND_SEQS}: ask for the range in parts`,
        );
      try {
        return await publisher.resend(range.from, range.to, MAX_RESEND_MESSAGES);
      } catch (e) {
        if (isLantianError(e, 'UPLINK_RESEND_RANGE')) throw new CommandRefusal('out_of_range', e.message);
        if (isLantianError(e, 'UPLINK_NOT_CONNECTED')) throw new CommandRefusal('unavailable', e.message);
        throw e;
      }
    },
  });
}
