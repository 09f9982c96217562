import { describe, expect, it } from 'vitest';
import {
  answersCheck,
  flagsCheck,
  hj212Check,
  latencyCheck,
  mqttCheck,
  overall,
  rangeCheck,
  systemCheck,
} from '../../../gateway/src/commission/checks.js';
import { pointReport } from '../../../gateway/src/commission/collect.js';
import { coveredSeqs } from '../../../gateway/src/commission/run.js';
import type { DeviceReport, Sample } from '../../../gateway/src/commission/types.js';

const T = Date.UTC(2026, 0, 1);

function device(o: Partial<DeviceReport> = {}): DeviceReport {
  return {
    id: 'uv',
    profile: 'sdl.scs-900uv',
    bus: 'b',
    unitId: 1,
    periodMs: 1000,
    timeoutMs: 1000,
    polls: 100,
    failedPolls: 0,
    requests: 100,
    replies: 100,
    timeouts: 0,
    crcErrors: 0,
    exceptions: 0,
    badReplies: 0,
    linkErrors: 0,
    answerRate: 1,
    latencyMs: { p50: 40, p99: 90 },
    flags: { N: 100 },
    points: [],
    ...o,
  };
}

const answered = (replies: number, requests = 100) =>
  answersCheck(device({ replies, requests, timeouts: requests - replies, answerRate: replies / requests }))
    .verdict;

describe('the device checks', () => {
  it('pass at a 99% answer rate, warn down to 90%, fail below it or with no answer at all', () => {
    expect(answered(100)).toBe('pass');
    expect(answered(99)).toBe('pass');
    expect(answered(98)).toBe('warn');
    expect(answered(90)).toBe('warn');
    expect(answered(89)).toBe('fail');
    expect(answered(0, 3)).toBe('fail');
    expect(answersCheck(device({ requests: 0, replies: 0, answerRate: null })).verdict).toBe('fail');
    expect(answersCheck(device({ replies: 98, timeouts: 2, answerRate: 0.98 })).detail).toBe(
      '98/100 requests answered (98.0%), 100/100 polls; 2 timeouts',
    );
  });

  it('judge values against each point’s measuring range: none outside passes, up to 5% warns, more fails', () => {
    const samples = (values: number[]): Sample[] => values.map((v, i) => [T + i, v, 'N']);
    const so2 = (values: number[]) =>
      pointReport({ key: 'so2', name: 'SO2', unit: 'mg/m3', range: [0, 100] }, samples(values));
    const inside = Array.from({ length: 95 }, () => 50);
    expect(rangeCheck(device({ points: [so2([...inside, 1, 2, 3, 4, 5])] })).verdict).toBe('pass');
    const fiveOut = rangeCheck(device({ points: [so2([...inside, -1, 101, 150, 200, 300])] }));
    expect(fiveOut.verdict).toBe('warn');
    expect(fiveOut.detail).toBe(
      '5/100 values (5.0%) outside the measuring range: so2 5 outside [0, 100] mg/m3',
    );
    expect(rangeCheck(device({ points: [so2([...inside, -1, 101, 150, 200, 300, 400])] })).verdict).toBe(
      'fail',
    );
    // A point without a range cannot be judged; a device whose points have values but no range passes.
    const free = pointReport({ key: 'x', name: 'x', unit: '' }, samples([1e9]));
    expect(rangeCheck(device({ points: [free] }))).toMatchObject({ verdict: 'pass' });
    expect(rangeCheck(device({ points: [so2([])] })).verdict).toBe('fail');
  });

  it('fail on B, D or F readings, warn on M, C, S or T, pass on N alone', () => {
    expect(flagsCheck(device({ flags: { N: 10 } })).verdict).toBe('pass');
    for (const f of ['M', 'C', 'S', 'T'] as const)
      expect(flagsCheck(device({ flags: { N: 10, [f]: 1 } })).verdict, f).toBe('warn');
    for (const f of ['B', 'D', 'F'] as const)
      expect(flagsCheck(device({ flags: { N: 10, M: 1, [f]: 1 } })).verdict, f).toBe('fail');
    expect(flagsCheck(device({ flags: {} }))).toMatchObject({
      verdict: 'fail',
      detail: 'no readings logged',
    });
    expect(flagsCheck(device({ flags: { N: 9, D: 1 } })).detail).toBe('N 9, D 1 (instrument fault)');
  });

  it('warn when the p99 latency exceeds half the reply timeout, fail without any reply', () => {
    expect(latencyCheck(device({ latencyMs: { p50: 100, p99: 500 } })).verdict).toBe('pass');
    expect(latencyCheck(device({ latencyMs: { p50: 100, p99: 501 } })).verdict).toBe('warn');
    expect(latencyCheck(device({ latencyMs: null })).verdict).toBe('fail');
  });
});

describe('the uplink and system checks', () => {
  const mqtt = {
    connected: true,
    committed: 50,
    delivered: 50,
    backlog: 0,
    reconnects: 0,
    publishErrors: 0,
    refusedLogins: 0,
    fault: null,
  };

  it('pass MQTT when the broker acknowledged all the run committed; warn short of it; fail with none or offline', () => {
    expect(mqttCheck(mqtt)).toMatchObject({
      id: 'uplink:mqtt:delivery',
      verdict: 'pass',
      detail: '50/50 records acknowledged by the broker, backlog 0',
    });
    expect(mqttCheck({ ...mqtt, delivered: 49, backlog: 1 }).verdict).toBe('warn');
    expect(mqttCheck({ ...mqtt, reconnects: 1 }).verdict).toBe('warn');
    expect(mqttCheck({ ...mqtt, delivered: 0 }).verdict).toBe('fail');
    expect(mqttCheck({ ...mqtt, connected: false }).verdict).toBe('fail');
    expect(mqttCheck({ ...mqtt, fault: 'bug' }).verdict).toBe('fail');
  });

  it('count acknowledged seqs of the run only, once each', () => {
    expect(
      coveredSeqs(
        [
          [1, 10],
          [11, 12],
          [20, 30],
        ],
        10,
        25,
      ),
    ).toBe(2 + 6);
  });

  it('pass an HJ 212 platform that answered, warn one that had nothing due, fail one that never answered', () => {
    const h = {
      platform: 'city',
      state: 'connected',
      answered: true,
      lastAnswer: { cn: '9014', ts: T },
      uploads: 3,
      resends: 0,
      backlog: 0,
      lastError: null,
    };
    expect(hj212Check(h)).toMatchObject({ id: 'uplink:hj212 city:answers', verdict: 'pass' });
    expect(hj212Check({ ...h, resends: 2 }).verdict).toBe('warn');
    expect(hj212Check({ ...h, answered: false }).verdict).toBe('warn');
    expect(hj212Check({ ...h, answered: false, state: 'down', lastError: 'ECONNREFUSED' })).toMatchObject({
      verdict: 'fail',
      detail: 'no answer during the run; 3 uploads answered, 0 resends, state down; last error: ECONNREFUSED',
    });
  });

  it('take doctor’s clock and disk findings as they are, ok as pass', () => {
    expect(
      systemCheck('disk', { verdict: 'ok', what: 'disk /var/lib/lantian', detail: '900 MiB free' }),
    ).toEqual({
      id: 'system:disk:free',
      group: 'system',
      subject: 'disk',
      check: 'free',
      verdict: 'pass',
      detail: 'disk /var/lib/lantian: 900 MiB free',
    });
    expect(systemCheck('clock', { verdict: 'warn', what: 'clock', detail: 'x' }).verdict).toBe('warn');
  });

  it('give the run the worst verdict of its checks', () => {
    const c = (verdict: 'pass' | 'warn' | 'fail') =>
      systemCheck('clock', { verdict: verdict === 'pass' ? 'ok' : verdict, what: 'c', detail: '' });
    expect(overall([c('pass'), c('pass')])).toEqual({
      verdict: 'pass',
      counts: { pass: 2, warn: 0, fail: 0 },
    });
    expect(overall([c('pass'), c('warn')]).verdict).toBe('warn');
    expect(overall([c('fail'), c('warn')]).verdict).toBe('fail');
  });
});
