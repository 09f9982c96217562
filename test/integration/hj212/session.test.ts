/**
 * The gateway's HJ 212 session against the platform simulator over real TCP sockets, with a
 * real SQLite log: uploads move the cursor only when answered, outages are caught up with
 * nothing missing, platform requests are answered from the log.
 */
import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { Hj212Session, type Hj212SessionOptions } from '../../../gateway/src/uplink/hj212/index.js';
import { startHj212Platform, type Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import type { AggregateDraft } from '../../../gateway/src/store/records.js';
import { hj212HealthSchema } from '../../../gateway/src/uplink/mqtt/contract.js';

const MN = '010000A8900016F000169DC0';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tmp(): TempDir {
  const t = tempDir('lantian-hj212-');
  cleanups.push(() => t.remove());
  return t;
}

function newLog(t: TempDir): Log {
  const log = openLog({ path: t.file('log.sqlite') });
  cleanups.push(() => log.close());
  return log;
}

async function platform(o: Partial<Parameters<typeof startHj212Platform>[0]> = {}): Promise<Hj212Platform> {
  const p = await startHj212Platform({ mn: MN, password: '123456', ...o });
  cleanups.push(() => p.stop());
  return p;
}

const CODES = new Map([
  ['dust/pm10', 'a34002'],
  ['dust/pm25', 'a34004'],
  ['stack/so2', 'a21026'],
  ['stack/nox', 'a21002'],
]);

function session(
  log: Log,
  p: Hj212Platform,
  o: Partial<Hj212SessionOptions> = {},
  setClock?: (ms: number) => boolean,
) {
  const s = new Hj212Session(
    log,
    {
      name: 'city',
      host: '127.0.0.1',
      port: p.port,
      edition: 2017,
      st: '31',
      mn: MN,
      password: '123456',
      crc: 'hj212',
      timezone: 'Asia/Shanghai',
      devices: ['dust', 'stack'],
      codes: CODES,
      rtdIntervalS: 30,
      minIntervalMin: 10,
      send: { realtime: true, minute: true, hour: true, day: true },
      timeoutMs: 500,
      retries: 2,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      graceMs: 0,
      ...o,
    },
    setClock ? { setClock } : {},
  );
  cleanups.push(() => s.stop());
  s.start();
  return s;
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const HOUR = 3_600_000;
// 2026-01-01 08:00 Beijing time.
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function minutes(count: number, from = T0): AggregateDraft[] {
  return Array.from({ length: count }, (_, i) => [
    {
      device: 'stack',
      point: 'so2',
      period: 'minute' as const,
      start: from + i * 60_000,
      min: i,
      avg: i + 0.5,
      max: i + 1,
      count: 12,
      flag: 'N' as const,
    },
    {
      device: 'stack',
      point: 'nox',
      period: 'minute' as const,
      start: from + i * 60_000,
      min: 10,
      avg: 20,
      max: 30,
      count: 12,
      flag: i % 2 ? ('C' as const) : ('N' as const),
    },
  ]).flat();
}

describe('HJ 212 session', () => {
  it('uploads real-time windows with factor codes and flags, and moves the cursor only on 9014', async () => {
    const log = newLog(tmp());
    const p = await platform();
    log.append([
      { ts: T0 + 1000, device: 'dust', point: 'pm10', value: 86, flag: 'N' },
      { ts: T0 + 2000, device: 'dust', point: 'pm25', value: 41.5, flag: 'N' },
      { ts: T0 + 5000, device: 'dust', point: 'pm10', value: 88, flag: 'M' },
      { ts: T0 + 6000, device: 'other', point: 'pm10', value: 1, flag: 'N' },
      { ts: T0 + 31_000, device: 'dust', point: 'pm10', value: null, flag: 'B' },
    ]);
    const s = session(log, p);
    await until(() => s.status().cursor === log.lastSeq, 'the cursor at the head');
    const rt = p.received.filter((x) => x.cn === '2011');
    expect(rt.map((x) => x.cp)).toEqual([
      'DataTime=20260101080005;a34002-Rtd=88,a34002-Flag=M;a34004-Rtd=41.5,a34004-Flag=N',
      'DataTime=20260101080031;a34002-Flag=B',
    ]);
    expect(rt.every((x) => x.flag === 5)).toBe(true);
    expect(s.status()).toMatchObject({
      state: 'connected',
      backlog: 0,
      uploads: 2,
      lastAnswer: { cn: '9014' },
    });
    // What the MQTT health message carries for each platform.
    expect(hj212HealthSchema.parse([s.status()])[0]).toMatchObject({ platform: 'city', cursor: log.lastSeq });
  });

  it('resends an unanswered upload after OverTime and keeps the cursor until the 9014 comes', async () => {
    const log = newLog(tmp());
    const p = await platform({ answerUploads: false });
    log.appendAggregates(minutes(1));
    const s = session(log, p, { timeoutMs: 200, retries: 1 });
    await until(() => s.status().resends >= 2, 'resends');
    expect(s.status().cursor).toBe(0);
    const qns = new Set(p.received.filter((x) => x.cn === '2051').map((x) => x.qn));
    expect(qns.size).toBeGreaterThanOrEqual(1);
    p.setAnswering(true);
    await until(() => s.status().cursor === log.lastSeq, 'the cursor after the answer');
  });

  it('catches up after a platform outage with no minute or hour missing, and the other platform is not held back', async () => {
    const log = newLog(tmp());
    const city = await platform();
    const province = await platform();
    const a = session(log, city);
    const b = session(log, province, { name: 'province' });
    await until(() => a.status().state === 'connected' && b.status().state === 'connected', 'both connected');
    await city.down();
    await until(() => a.status().state !== 'connected', 'city link down');
    log.appendAggregates(minutes(30));
    log.appendAggregates([
      {
        device: 'stack',
        point: 'so2',
        period: 'hour',
        start: T0,
        min: 0,
        avg: 15,
        max: 30,
        count: 60,
        flag: 'N',
      },
    ]);
    await until(() => b.status().cursor === log.lastSeq, 'the province caught up while the city is down');
    expect(a.status().cursor).toBeLessThan(log.lastSeq);
    await city.up();
    await until(() => a.status().cursor === log.lastSeq, 'the city caught up');
    for (const p of [city, province]) {
      const mins = p.received.filter((x) => x.cn === '2051').map((x) => x.fields.get('DataTime'));
      expect(new Set(mins).size).toBe(30);
      expect(mins.length).toBe(30);
      expect(p.received.filter((x) => x.cn === '2061').map((x) => x.cp)).toEqual([
        'DataTime=20260101080000;a21026-Min=0,a21026-Avg=15,a21026-Max=30,a21026-Flag=N',
      ]);
    }
    const first = city.received.find((x) => x.cn === '2051')!;
    expect(first.cp).toBe(
      'DataTime=20260101080000;a21026-Min=0,a21026-Avg=0.5,a21026-Max=1,a21026-Flag=N;a21002-Min=10,a21002-Avg=20,a21002-Max=30,a21002-Flag=N',
    );
  });

  it('answers a history request with exactly the stored records of the window', async () => {
    const log = newLog(tmp());
    const p = await platform();
    const hours: AggregateDraft[] = Array.from({ length: 5 }, (_, i) => ({
      device: 'stack',
      point: 'so2',
      period: 'hour' as const,
      start: T0 + i * HOUR,
      min: i,
      avg: i * 2,
      max: i * 3,
      count: 60,
      flag: 'N' as const,
    }));
    log.appendAggregates(hours);
    const s = session(log, p, { send: { realtime: true, minute: true, hour: false, day: true } });
    await until(() => s.status().state === 'connected', 'connected');
    const r = await p.request('2061', 'BeginTime=20260101090000;EndTime=20260101110000');
    expect([r.qnRtn, r.exeRtn]).toEqual([1, 1]);
    expect(r.data.map((d) => d.cp)).toEqual([
      'DataTime=20260101090000;a21026-Min=1,a21026-Avg=2,a21026-Max=3,a21026-Flag=N',
      'DataTime=20260101100000;a21026-Min=2,a21026-Avg=4,a21026-Max=6,a21026-Flag=N',
      'DataTime=20260101110000;a21026-Min=3,a21026-Avg=6,a21026-Max=9,a21026-Flag=N',
    ]);
    expect(new Set(r.data.map((d) => d.qn)).size).toBe(3);
    const none = await p.request('2061', 'BeginTime=20250101000000;EndTime=20250102000000');
    expect([none.qnRtn, none.exeRtn, none.data]).toEqual([1, 100, []]);
  });

  it('applies a time-set within the configured bounds, refuses one beyond them, and records both', async () => {
    const log = newLog(tmp());
    const p = await platform();
    const applied: number[] = [];
    const s = session(log, p, { maxTimeStepMs: 60_000 }, (ms) => (applied.push(ms), true));
    await until(() => s.status().state === 'connected', 'connected');
    const fmt = (ms: number) => new Date(ms + 8 * HOUR).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const target = Math.floor((Date.now() + 20_000) / 1000) * 1000;
    const ok = await p.request('1012', `SystemTime=${fmt(target)}`);
    expect([ok.qnRtn, ok.exeRtn]).toEqual([1, 1]);
    expect(applied).toEqual([target]);
    const far = await p.request('1012', `SystemTime=${fmt(Date.now() + 86_400_000)}`);
    expect([far.qnRtn, far.exeRtn]).toEqual([1, 3]);
    expect(applied.length).toBe(1);
    const events = log.read(0, 100).filter((r) => r.type === 'event' && r.kind === 'clock');
    expect(events.map((e) => (e as { payload: { applied: boolean } }).payload.applied)).toEqual([
      true,
      false,
    ]);
    const time = await p.request('1011');
    expect(time.data[0]?.fields.get('SystemTime')).toMatch(/^\d{14}$/);
  });

  it('answers interval, password and real-time start/stop requests, and refuses unknown commands with QnRtn 8', async () => {
    const log = newLog(tmp());
    const p = await platform();
    const s = session(log, p);
    await until(() => s.status().state === 'connected', 'connected');
    expect((await p.request('1062', 'RtdInterval=120')).exeRtn).toBe(1);
    expect((await p.request('1061')).data[0]?.fields.get('RtdInterval')).toBe('120');
    expect((await p.request('1062', 'RtdInterval=5')).exeRtn).toBe(3);
    expect((await p.request('1064', 'MinInterval=7')).exeRtn).toBe(3);
    expect((await p.request('1064', 'MinInterval=5')).exeRtn).toBe(1);
    expect((await p.request('1063')).data[0]?.fields.get('MinInterval')).toBe('5');
    expect((await p.request('3011', 'PolId=a21026')).qnRtn).toBe(8);
    p.notify('2012');
    await until(() => !s.live.realtimeOn, 'real-time stopped');
    log.append([{ ts: T0, device: 'dust', point: 'pm10', value: 1, flag: 'N' }]);
    await until(() => s.status().cursor === log.lastSeq, 'skipped while stopped');
    expect(p.received.some((x) => x.cn === '2011')).toBe(false);
    expect((await p.request('2011')).exeRtn).toBe(1);
    expect(s.live.realtimeOn).toBe(true);
    expect((await p.request('1072', 'NewPW=654321')).exeRtn).toBe(1);
    expect(s.live.password).toBe('654321');
  });

  it('splits a long upload into numbered parts, each with its own QN and 9014, before moving the cursor', async () => {
    const log = newLog(tmp());
    const p = await platform();
    const codes = new Map(Array.from({ length: 60 }, (_, i) => [`stack/p${i}`, `a${20000 + i}`]));
    log.append(
      Array.from({ length: 60 }, (_, i) => ({
        ts: T0 + 1000,
        device: 'stack',
        point: `p${i}`,
        value: 1234.5678 + i,
        flag: 'N' as const,
      })),
    );
    const s = session(log, p, { codes });
    await until(() => s.status().cursor === log.lastSeq, 'the split upload answered');
    const parts = p.received.filter((x) => x.cn === '2011');
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((x) => [x.pno, x.pnum, x.flag])).toEqual(parts.map((_, i) => [i + 1, parts.length, 7]));
    expect(new Set(parts.map((x) => x.qn)).size).toBe(parts.length);
    expect(parts.every((x) => Buffer.byteLength(x.raw) - 12 <= 1024)).toBe(true);
    const values = parts.flatMap((x) => x.cp.split(';').filter((i) => i.includes('-Rtd')));
    expect(values.length).toBe(60);
  });

  it('runs a 2025 session: registration, key exchange, encrypted back-filled and live data, heartbeats', async () => {
    const log = newLog(tmp());
    const first = Buffer.from('0000000000000000');
    const p = await platform({
      edition: 2025,
      sm4Key: first,
      assignMn: '010000A8900016F0001600AA',
      issueKey: 'NextKey-2026-Q1!',
    });
    log.appendAggregates(minutes(2));
    const s = session(log, p, {
      edition: 2025,
      sm4Key: first,
      registration: { dauId: '6970000000001ABCDEFG1234', cpuId: 'A800200A8C6D', mac1: 'E86A643C7BBC' },
      requestKey: true,
      heartbeatMs: 300,
    });
    await p.waitFor((x) => x.cn === '9012' && x.mn === '010000A8900016F0001600AA');
    await until(() => s.live.mn === '010000A8900016F0001600AA', 'the assigned MN');
    await until(
      () => p.key?.toString() === 'NextKey-2026-Q1!' && s.live.sm4Key?.toString() === 'NextKey-2026-Q1!',
      'the new key on both sides',
    );
    const reg = p.received.find((x) => x.cn === '1001')!;
    expect(reg.fields.get('i23005-Info')).toBe('6970000000001ABCDEFG1234');
    expect(reg.flag).toBe(9);
    await until(() => s.status().cursor === log.lastSeq, 'the back-fill delivered');
    log.appendAggregates(minutes(1, T0 + 10 * 60_000));
    await until(() => s.status().cursor === log.lastSeq, 'live data delivered');
    const data = p.received.filter((x) => x.cn === '2051');
    expect(data.map((x) => [x.fields.get('DataTime'), x.rf, x.encrypted, x.flag])).toEqual([
      ['20260101080000', true, true, 9],
      ['20260101080100', true, true, 9],
      ['20260101081000', false, true, 9],
    ]);
    // The live packet went out under the key the platform issued, with the MN it assigned.
    expect(data[2]!.mn).toBe('010000A8900016F0001600AA');
    await p.waitFor((x) => x.cn === '9015');
    await until(
      () => p.transcript.some((l) => l.startsWith('P> ') && l.includes('CN=9013')),
      'the 9013 to a heartbeat',
    );
    expect(s.status().lastAnswer).not.toBeNull();
  });

  it('keeps the MN, password, key and interval a platform set across a restart, until the config changes them', async () => {
    const t = tmp();
    const log = newLog(t);
    const stateFile = t.file('log.sqlite.hj212-city.json');
    const first = Buffer.from('0000000000000000');
    const NEW_MN = '010000A8900016F0001600AA';
    const p1 = await platform({
      edition: 2025,
      sm4Key: first,
      assignMn: NEW_MN,
      issueKey: 'NextKey-2026-Q1!',
    });
    const o = { edition: 2025 as const, sm4Key: first, stateFile };
    const s1 = session(log, p1, { ...o, registration: { dauId: 'DAU-1' }, requestKey: true });
    await until(() => s1.live.sm4Key?.toString() === 'NextKey-2026-Q1!', 'the new key');
    expect((await p1.request('1072', 'NewPW=654321')).exeRtn).toBe(1);
    expect((await p1.request('1062', 'RtdInterval=120')).exeRtn).toBe(1);
    await s1.stop();
    await p1.stop();
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    // After the restart the gateway speaks to a platform that knows only the new values.
    const p2 = await platform({
      edition: 2025,
      mn: NEW_MN,
      password: '654321',
      sm4Key: Buffer.from('NextKey-2026-Q1!'),
    });
    const s2 = session(log, p2, o);
    expect(s2.live).toMatchObject({ mn: NEW_MN, password: '654321', rtdIntervalS: 120 });
    log.appendAggregates(minutes(1));
    await until(() => s2.status().cursor === log.lastSeq, 'delivered with the values the platform set');
    expect(p2.received.find((x) => x.cn === '2051')).toMatchObject({ mn: NEW_MN, encrypted: true });
    await s2.stop();

    // An operator who changes the MN in the site config means it: the configured one applies.
    const s3 = session(log, p2, { ...o, mn: '010000A8900016F000169DC9' });
    expect(s3.live).toMatchObject({ mn: '010000A8900016F000169DC9', password: '654321' });
  });

  it('sends live data before the back-fill still waiting (HJ 212-2025 §8.1.2), and all of the back-fill after', async () => {
    const log = newLog(tmp());
    const p = await platform({ edition: 2025 });
    log.appendAggregates(minutes(200)); // 200 minutes waited in the log for the link
    const s = session(log, p, { edition: 2025 });
    await p.waitFor((x) => x.cn === '2051');
    log.appendAggregates(minutes(1, T0 + 1000 * 60_000)); // a new minute while the back-fill runs
    // a record after it, so the minute is complete at once (no wait for more of its period)
    log.appendEvent({ ts: T0, kind: 'config_change', payload: {} });
    await until(() => s.status().cursor === log.lastSeq, 'everything delivered', 30_000);
    const data = p.received.filter((x) => x.cn === '2051');
    expect(data).toHaveLength(201);
    const live = data.findIndex((x) => x.fields.get('DataTime') === '20260102004000');
    expect(data[live]!.rf).toBe(false);
    expect(live).toBeLessThan(10); // not behind the 200 waiting ones
    expect(data.filter((x) => x.rf)).toHaveLength(200);
  });

  it('leaves no timer listeners behind when answers and log appends come faster than the timeouts', async () => {
    const log = newLog(tmp());
    const p = await platform();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    cleanups.push(() => void process.off('warning', onWarning));
    const s = session(log, p, { timeoutMs: 30_000 });
    await until(() => s.status().state === 'connected', 'connected');
    for (let i = 0; i < 30; i++) {
      log.appendAggregates(minutes(1, T0 + i * 60_000));
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => s.status().cursor === log.lastSeq, 'all delivered');
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it("sends processing's outlet aggregates with their own factor code, Zs values and Cou", async () => {
    const log = newLog(tmp());
    const p = await platform();
    log.appendAggregates([
      {
        device: 'boiler1',
        point: 'so2',
        period: 'hour',
        start: T0,
        min: 20.1,
        avg: 22.4,
        max: 25,
        count: 60,
        flag: 'N',
        outlet: 'boiler1',
        hj212: 'a21026',
        zsAvg: 24.35,
        cou: 0.672,
      },
      {
        device: 'boiler1',
        point: 'flow',
        period: 'hour',
        start: T0,
        min: 50,
        avg: 50,
        max: 50,
        count: 60,
        flag: 'N',
        outlet: 'other',
        hj212: 'a00000',
      },
    ]);
    const s = session(log, p, { devices: [], outlet: 'boiler1', codes: new Map() });
    await until(() => s.status().cursor === log.lastSeq, 'the outlet hour delivered');
    expect(p.received.filter((x) => x.cn === '2061').map((x) => x.cp)).toEqual([
      'DataTime=20260101080000;a21026-Min=20.1,a21026-Avg=22.4,a21026-Max=25,a21026-ZsAvg=24.35,a21026-Cou=0.672,a21026-Flag=N',
    ]);
  });
});
