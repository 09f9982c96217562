/**
 * The demo's verdict: the gateway's own log (opened after it exited) against what the platform
 * received. A reading is lost when its seq is in the log and never reached the receiver.
 */
import { openLog } from '../gateway/src/store/index.js';
import type { PlatformWitness } from '../hardware-sim/src/platform/index.js';

export interface LogCount {
  lastSeq: number;
  readingSeqs: number[];
}

export interface Verdict {
  acquired: number;
  delivered: number;
  lost: number;
  ok: boolean;
  checks: string[];
}

export function countLog(path: string): LogCount {
  const log = openLog({ path, integrityCheck: 'none' });
  try {
    const readingSeqs: number[] = [];
    for (let after = 0; ;) {
      const batch = log.read(after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) if (r.type === 'reading') readingSeqs.push(r.seq);
      after = batch.at(-1)!.seq;
    }
    return { lastSeq: log.lastSeq, readingSeqs };
  } finally {
    log.close();
  }
}

export interface Expectations {
  /** Every device of the site: each must have delivered readings that are not all B. */
  devices: readonly string[];
  silentDevice: string;
  silentFromS: number;
  silentForS: number;
  calibrating: string;
  calibrationAtS: number;
  brokerBackAtS: number;
  /** How long the demo ran; steps of the timeline it never reached are reported, not failed. */
  ranForS: number;
}

export function checkRun(log: LogCount, receiver: PlatformWitness, expect: Expectations): Verdict {
  const got = receiver.readings;
  const lost = log.readingSeqs.filter((s) => !got.has(s)).length;
  const delivered = log.readingSeqs.length - lost;
  const byDevice = new Map<string, { ts: number; flag: string }[]>();
  for (const r of got.values()) {
    const list = byDevice.get(r.device) ?? [];
    list.push({ ts: r.ts, flag: r.flag });
    byDevice.set(r.device, list);
  }
  const checks: string[] = [];
  let ok = lost === 0;
  const check = (pass: boolean, text: string, reachedAtS = 0) => {
    if (expect.ranForS < reachedAtS) {
      checks.push(`not reached (stopped at ${expect.ranForS.toFixed(0)} s): ${text}`);
      return;
    }
    checks.push(`${pass ? 'ok' : 'FAILED'}: ${text}`);
    ok &&= pass;
  };
  for (const device of [...expect.devices].sort()) {
    const list = byDevice.get(device) ?? [];
    const good = list.filter((r) => r.flag !== 'B').length;
    check(good > 0, `${device} delivered ${list.length} readings, ${good} not flagged B`);
  }
  const silent = (byDevice.get(expect.silentDevice) ?? []).sort((a, b) => a.ts - b.ts);
  const firstB = silent.findIndex((r) => r.flag === 'B');
  const recovered = firstB >= 0 && silent.slice(firstB).some((r) => r.flag !== 'B');
  check(
    firstB >= 0 && recovered,
    `${expect.silentDevice} flagged B while silent and recovered after`,
    expect.silentFromS + expect.silentForS + 5,
  );
  const calibrated = (byDevice.get(expect.calibrating) ?? []).some((r) => r.flag === 'C');
  check(calibrated, `${expect.calibrating} readings flagged C during calibration`, expect.calibrationAtS + 5);
  const s = receiver.stats();
  check(
    s.lanes.replay.messages > 0 && s.holes.length === 0,
    `broker restart caught up: ${s.lanes.replay.messages} replay messages, ${s.holes.length} holes, ${s.duplicates} duplicates (identified by seq)`,
    expect.brokerBackAtS + 5,
  );
  return { acquired: log.readingSeqs.length, delivered, lost, ok, checks };
}
