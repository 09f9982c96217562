/**
 * Requests from the platform (HJ 212 §6.1, Table 9): answered with 9011 (QnRtn) carrying the
 * request's QN, then the data the request asks for, then 9012 (ExeRtn) with the same QN.
 * Notifications (2012) get 9013. Unknown commands are refused with QnRtn 8 (CN error), a wrong
 * PW with 3, a wrong MN with 4.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Log, LogRecord } from '../../store/index.js';
import { aggregateCp, CN_PERIOD, codeOf } from './mapping.js';
import { cpOf, cpValue, wantsAnswer, type CpItem, type Packet } from './packet.js';
import type { Hj212Session } from './session.js';
import { sm4Key } from './sm4.js';
import { formatDataTime, parseDataTime } from './time.js';

export interface RequestContext {
  session: Hj212Session;
  log: Log;
  clock: Clock;
  logger: Logger;
  reply(p: Packet): void;
  deliver(p: Packet): Promise<boolean>;
  packet(cn: string, cp: CpItem[], o?: { qn?: string; answer?: boolean; st?: string }): Packet;
  setClock?: (targetMs: number) => boolean;
  maxTimeStepMs: number;
}

export const QN_RTN = {
  ready: 1,
  rejected: 2,
  pw: 3,
  mn: 4,
  st: 5,
  flag: 6,
  qn: 7,
  cn: 8,
  crc: 9,
  unknown: 100,
};
export const EXE_RTN = { ok: 1, failed: 2, condition: 3, timeout: 4, busy: 5, fault: 6, noData: 100 };

const MIN_INTERVALS = new Set([1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30]);

/** Commands a platform may send that this gateway carries out. */
export const HANDLED = [
  '1000',
  '1002',
  '1011',
  '1012',
  '1014',
  '1061',
  '1062',
  '1063',
  '1064',
  '1072',
  '2011',
  '2012',
  '2021',
  '2031',
  '2051',
  '2061',
];

type Outcome = { exe: number; data?: Packet[]; history?: Packet[] };

/** Answers one request; returns what the gateway answered (e.g. `QnRtn=1 ExeRtn=1`). */
export async function handleRequest(c: RequestContext, p: Packet): Promise<string> {
  const s = c.session;
  const answer = (cn: string, cp: Record<string, string | number>) =>
    c.reply(c.packet(cn, cpOf(cp), { qn: p.qn, st: '91' }));
  if (p.cn === '2012' || p.cn === '2022') {
    if (p.cn === '2012') s.live.realtimeOn = false;
    answer('9013', {});
    return 'notification answered (9013)';
  }
  const qnRtn =
    p.pw !== s.live.password
      ? QN_RTN.pw
      : p.mn !== s.live.mn && p.cn !== '1002'
        ? QN_RTN.mn
        : HANDLED.includes(p.cn)
          ? QN_RTN.ready
          : QN_RTN.cn;
  if (!wantsAnswer(p.flag) && qnRtn !== QN_RTN.ready) return `ignored (QnRtn=${qnRtn}, no answer asked)`;
  answer('9011', { QnRtn: qnRtn });
  if (qnRtn !== QN_RTN.ready) {
    c.logger.warn({ cn: p.cn, qnRtn }, 'platform request refused');
    return `QnRtn=${qnRtn}`;
  }
  const outcome = execute(c, p);
  for (const d of outcome.data ?? []) c.reply(d);
  let exe = outcome.exe;
  for (const h of outcome.history ?? []) {
    if (!(await c.deliver(h))) {
      exe = EXE_RTN.timeout;
      break;
    }
  }
  answer('9012', { ExeRtn: exe });
  return `QnRtn=${qnRtn} ExeRtn=${exe}`;
}

function event(c: RequestContext, kind: string, payload: Record<string, unknown>): void {
  c.log.appendEvent({ ts: c.clock.now(), kind, payload: { platform: c.session.options.name, ...payload } });
}

function execute(c: RequestContext, p: Packet): Outcome {
  const s = c.session;
  const tz = s.options.timezone;
  const get = (name: string) => cpValue(p.cp, name);
  const num = (name: string) => {
    const v = get(name);
    return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
  };
  const same = (cn: string, cp: Record<string, string | number>) => c.packet(cn, cpOf(cp), { qn: p.qn });
  switch (p.cn) {
    case '1000': {
      const over = num('OverTime');
      const count = num('ReCount');
      if (over === undefined || over < 1 || over > 99 || count === undefined || count > 99)
        return { exe: EXE_RTN.condition };
      s.live.timeoutMs = over * 1000;
      s.live.retries = count;
      s.remember({ timeoutMs: over * 1000, retries: count });
      event(c, 'config_change', { cn: '1000', overTimeS: over, reCount: count });
      return { exe: EXE_RTN.ok };
    }
    case '1011':
      return { exe: EXE_RTN.ok, data: [same('1011', { SystemTime: formatDataTime(c.clock.now(), tz) })] };
    case '1012': {
      const text = get('SystemTime');
      if (text === undefined) return { exe: EXE_RTN.condition };
      const target = parseDataTime(text, tz, 'SystemTime');
      const now = c.clock.now();
      const deltaMs = target - now;
      const within = Math.abs(deltaMs) <= c.maxTimeStepMs;
      const applied = within && c.setClock !== undefined && c.setClock(target);
      event(c, 'clock', {
        cn: '1012',
        requested: text,
        deltaMs,
        applied,
        ...(applied
          ? {}
          : { reason: within ? 'the system clock cannot be set here' : 'outside the allowed step' }),
      });
      return { exe: applied ? EXE_RTN.ok : within ? EXE_RTN.failed : EXE_RTN.condition };
    }
    case '1061':
      return { exe: EXE_RTN.ok, data: [same('1061', { RtdInterval: s.live.rtdIntervalS })] };
    case '1062': {
      const v = num('RtdInterval');
      if (v === undefined || v < 30 || v > 3600) return { exe: EXE_RTN.condition };
      s.live.rtdIntervalS = v;
      s.remember({ rtdIntervalS: v });
      event(c, 'config_change', { cn: '1062', rtdIntervalS: v });
      return { exe: EXE_RTN.ok };
    }
    case '1063':
      return { exe: EXE_RTN.ok, data: [same('1063', { MinInterval: s.live.minIntervalMin })] };
    case '1064': {
      const v = num('MinInterval');
      if (v === undefined || !MIN_INTERVALS.has(v)) return { exe: EXE_RTN.condition };
      s.live.minIntervalMin = v;
      s.remember({ minIntervalMin: v });
      event(c, 'config_change', { cn: '1064', minIntervalMin: v });
      return { exe: EXE_RTN.ok };
    }
    case '1072': {
      const pw = get('NewPW');
      if (pw === undefined || !/^[\x21-\x7e]{1,32}$/.test(pw) || /[;,=&#]/.test(pw))
        return { exe: EXE_RTN.condition };
      s.live.password = pw;
      s.remember({ password: pw });
      // The new password itself is a secret: the event says only that it changed.
      event(c, 'config_change', { cn: '1072', password: 'changed' });
      return { exe: EXE_RTN.ok };
    }
    case '1002': {
      if (s.options.edition !== 2025 || !/^[0-9A-Za-z-]{1,24}$/.test(p.mn)) return { exe: EXE_RTN.condition };
      s.live.mn = p.mn;
      s.remember({ mn: p.mn });
      event(c, 'config_change', { cn: '1002', mn: p.mn });
      return { exe: EXE_RTN.ok };
    }
    case '1014': {
      const key = get('NewSK');
      if (s.options.edition !== 2025 || key === undefined) return { exe: EXE_RTN.condition };
      try {
        s.live.sm4Key = sm4Key(key);
        s.remember({ sm4Key: s.live.sm4Key.toString('hex') });
      } catch {
        return { exe: EXE_RTN.condition };
      }
      event(c, 'config_change', { cn: '1014', key: 'changed', createdAt: get('SKCreateTime') ?? null });
      return { exe: EXE_RTN.ok };
    }
    case '2011':
      s.live.realtimeOn = true;
      return { exe: EXE_RTN.ok };
    case '2021':
      // Treatment-facility state is not acquired by this gateway.
      return { exe: EXE_RTN.noData };
    case '2051':
    case '2061':
    case '2031':
      return history(c, p);
    default:
      return { exe: EXE_RTN.failed };
  }
}

/** Stored aggregates of the period with BeginTime <= start <= EndTime, one packet per start. */
function history(c: RequestContext, p: Packet): Outcome {
  const s = c.session;
  const tz = s.options.timezone;
  const begin = cpValue(p.cp, 'BeginTime');
  const end = cpValue(p.cp, 'EndTime');
  if (begin === undefined || end === undefined) return { exe: EXE_RTN.condition };
  const from = parseDataTime(begin, tz, 'BeginTime');
  const to = parseDataTime(end, tz, 'EndTime');
  const period = CN_PERIOD[p.cn]!;
  const devices = new Set(s.options.devices);
  const groups = new Map<number, Extract<LogRecord, { type: 'aggregate' }>[]>();
  // The log has no time index; history requests are rare, so one pass over it is acceptable.
  for (let after = 0; ;) {
    const recs = c.log.read(after, 5000);
    if (recs.length === 0) break;
    for (const r of recs) {
      if (r.type !== 'aggregate' || r.period !== period || r.start < from || r.start > to) continue;
      const mine = devices.has(r.device) || (s.options.outlet !== undefined && r.outlet === s.options.outlet);
      if (!mine || codeOf(s.options.codes, r) === undefined) continue;
      const g = groups.get(r.start) ?? [];
      g.push(r);
      groups.set(r.start, g);
    }
    after = recs.at(-1)!.seq;
  }
  const starts = [...groups.keys()].sort((a, b) => a - b);
  if (starts.length === 0) return { exe: EXE_RTN.noData };
  return {
    exe: EXE_RTN.ok,
    history: starts.map((t) =>
      c.packet(p.cn, aggregateCp(groups.get(t)!, s.options.codes, tz), { answer: true }),
    ),
  };
}
