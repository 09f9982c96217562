/**
 * The verdicts: each check turns measured facts into pass / warn / fail with a sentence saying
 * why. The thresholds are here, once, and go into the report so a reader sees what was applied
 * (docs/commissioning.md explains them).
 */
import { FLAGS, type Flag } from '../core/flags.js';
import type { Check, DeviceReport, Hj212Report, MqttReport, Verdict } from './types.js';

export const THRESHOLDS = {
  /** replies / requests at or above this: pass. */
  answerRatePass: 0.99,
  /** At or above this (and below the pass mark): warn; below: fail. */
  answerRateWarn: 0.9,
  /** Share of a device's values outside their measuring range up to which it is a warn; above: fail. */
  outOfRangeWarn: 0.05,
  /** p99 latency above this share of the reply timeout: warn (a slower line times out soon). */
  latencyWarnShareOfTimeout: 0.5,
  /** Flags that fail a device: communication failure, fault, stopped. */
  failFlags: 'B D F',
  /** Flags that warn: maintenance, calibration, manually set, above range. */
  warnFlags: 'M C S T',
} as const;

const FAIL_FLAGS = new Set<Flag>(['B', 'D', 'F']);
const WARN_FLAGS = new Set<Flag>(['M', 'C', 'S', 'T']);

const pct = (share: number) => `${(share * 100).toFixed(share >= 0.9995 || share === 0 ? 0 : 1)}%`;

function check(
  group: Check['group'],
  subject: string,
  name: string,
  verdict: Verdict,
  detail: string,
): Check {
  return { id: `${group}:${subject}:${name}`, group, subject, check: name, verdict, detail };
}

export function answersCheck(d: DeviceReport): Check {
  const make = (v: Verdict, detail: string) => check('device', d.id, 'answers', v, detail);
  if (d.answerRate === null) return make('fail', 'never polled during the run');
  const errors = [
    d.timeouts > 0 ? `${d.timeouts} timeouts` : '',
    d.crcErrors > 0 ? `${d.crcErrors} CRC errors` : '',
    d.exceptions > 0 ? `${d.exceptions} exceptions` : '',
    d.badReplies > 0 ? `${d.badReplies} bad replies` : '',
    d.linkErrors > 0 ? `${d.linkErrors} link errors` : '',
  ].filter(Boolean);
  const detail =
    `${d.replies}/${d.requests} requests answered (${pct(d.answerRate)}), ` +
    `${d.polls - d.failedPolls}/${d.polls} polls` +
    (errors.length > 0 ? `; ${errors.join(', ')}` : '');
  if (d.replies === 0 || d.answerRate < THRESHOLDS.answerRateWarn) return make('fail', detail);
  return make(d.answerRate < THRESHOLDS.answerRatePass ? 'warn' : 'pass', detail);
}

export function rangeCheck(d: DeviceReport): Check {
  const make = (v: Verdict, detail: string) => check('device', d.id, 'range', v, detail);
  const ranged = d.points.filter((p) => p.range !== null);
  const values = ranged.reduce((n, p) => n + p.values, 0);
  const outside = ranged.filter((p) => p.outOfRange > 0);
  const out = outside.reduce((n, p) => n + p.outOfRange, 0);
  const unranged = d.points.length - ranged.length;
  const note = unranged > 0 ? `; ${unranged} point(s) declare no range` : '';
  if (values === 0)
    return make(ranged.length === 0 ? 'pass' : 'fail', `no values to check against a range${note}`);
  if (out === 0) return make('pass', `${values} values, all within the measuring range${note}`);
  const which = outside
    .map((p) => `${p.key} ${p.outOfRange} outside [${p.range![0]}, ${p.range![1]}] ${p.unit}`.trimEnd())
    .join('; ');
  const share = out / values;
  return make(
    share > THRESHOLDS.outOfRangeWarn ? 'fail' : 'warn',
    `${out}/${values} values (${pct(share)}) outside the measuring range: ${which}${note}`,
  );
}

export function flagsCheck(d: DeviceReport): Check {
  const seen = (Object.entries(d.flags) as [Flag, number][]).filter(([, n]) => n > 0);
  const total = seen.reduce((n, [, c]) => n + c, 0);
  const text = seen.map(([f, n]) => `${f} ${n}${f === 'N' ? '' : ` (${FLAGS[f]})`}`).join(', ');
  const verdict: Verdict =
    total === 0 || seen.some(([f]) => FAIL_FLAGS.has(f))
      ? 'fail'
      : seen.some(([f]) => WARN_FLAGS.has(f))
        ? 'warn'
        : 'pass';
  return check('device', d.id, 'flags', verdict, total === 0 ? 'no readings logged' : text);
}

export function latencyCheck(d: DeviceReport): Check {
  const make = (v: Verdict, detail: string) => check('device', d.id, 'latency', v, detail);
  if (!d.latencyMs) return make('fail', 'no reply to measure');
  const { p50, p99 } = d.latencyMs;
  const detail = `p50 ${p50} ms, p99 ${p99} ms`;
  if (d.timeoutMs === undefined) return make('pass', detail);
  const limit = d.timeoutMs * THRESHOLDS.latencyWarnShareOfTimeout;
  return p99 > limit
    ? make('warn', `${detail}: above ${limit} ms, half the ${d.timeoutMs} ms timeout`)
    : make('pass', `${detail} (timeout ${d.timeoutMs} ms)`);
}

/** Sources that are not polled over Modbus only have their readings' flags to go by. */
export function deviceChecks(d: DeviceReport): Check[] {
  if (d.profile === undefined) return [flagsCheck(d)];
  return [answersCheck(d), rangeCheck(d), flagsCheck(d), latencyCheck(d)];
}

export function mqttCheck(m: MqttReport): Check {
  const make = (v: Verdict, detail: string) => check('uplink', 'mqtt', 'delivery', v, detail);
  const counts = `${m.delivered}/${m.committed} records acknowledged by the broker, backlog ${m.backlog}`;
  const troubles = [
    m.reconnects > 0 ? `${m.reconnects} reconnects` : '',
    m.publishErrors > 0 ? `${m.publishErrors} publish errors` : '',
    m.refusedLogins > 0 ? `${m.refusedLogins} refused logins` : '',
  ].filter(Boolean);
  const detail = counts + (troubles.length > 0 ? `; ${troubles.join(', ')}` : '');
  if (m.fault) return make('fail', `${detail}; stopped on a fault: ${m.fault}`);
  if (!m.connected) return make('fail', `not connected at the end; ${detail}`);
  if (m.committed > 0 && m.delivered === 0) return make('fail', detail);
  return make(m.delivered < m.committed || troubles.length > 0 ? 'warn' : 'pass', detail);
}

export function hj212Check(h: Hj212Report): Check {
  const make = (v: Verdict, detail: string) => check('uplink', `hj212 ${h.platform}`, 'answers', v, detail);
  const last = h.answered && h.lastAnswer ? `last answer CN ${h.lastAnswer.cn}, ` : '';
  const counts = `${last}${h.uploads} uploads answered, ${h.resends} resends, state ${h.state}`;
  const err = h.lastError ? `; last error: ${h.lastError}` : '';
  if (h.state !== 'connected' && !h.answered)
    return make('fail', `no answer during the run; ${counts}${err}`);
  if (!h.answered)
    return make('warn', `connected, but nothing it answers fell due during the run; ${counts}${err}`);
  return make(h.resends > 0 || h.state !== 'connected' ? 'warn' : 'pass', `${counts}${err}`);
}

/** `lantian doctor`'s ok / warn / fail, as a commissioning check. */
export function systemCheck(
  subject: 'clock' | 'disk',
  finding: { verdict: 'ok' | 'warn' | 'fail'; what: string; detail: string },
): Check {
  const verdict: Verdict = finding.verdict === 'ok' ? 'pass' : finding.verdict;
  return check(
    'system',
    subject,
    subject === 'clock' ? 'sync' : 'free',
    verdict,
    `${finding.what}: ${finding.detail}`,
  );
}

export function overall(checks: readonly Check[]): { verdict: Verdict; counts: Record<Verdict, number> } {
  const counts: Record<Verdict, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.verdict]++;
  return { verdict: counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass', counts };
}
