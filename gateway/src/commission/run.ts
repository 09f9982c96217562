/**
 * The commissioning run: the real gateway composition (polling, the log, processing, MQTT, HJ 212,
 * the web page when configured) runs for the given time; then the facts the checks need are
 * taken from it before it stops. Readings taken during the run are real readings: they stay in
 * the log and go out on the uplinks like any others.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AcquisitionHealth } from '../acquisition/index.js';
import type { LoadedConfig } from '../config/index.js';
import { Gateway } from '../gateway.js';
import { readRun, type Recorded } from './collect.js';
import type { Hj212Report, MqttReport } from './types.js';

export interface RunOptions {
  durationMs: number;
  /** After the run, how long to wait for the broker to acknowledge what was committed, ms. Default 10 000. */
  drainMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called about once a second with the time run so far, ms. */
  onProgress?: (elapsedMs: number) => void;
  /** Ends the run early (Ctrl-C); the facts cover the time run so far. */
  signal?: AbortSignal;
}

export interface RunFacts {
  startedAt: number;
  endedAt: number;
  /** Log seqs of the run: (fromSeq, throughSeq]. */
  fromSeq: number;
  throughSeq: number;
  health: AcquisitionHealth;
  recorded: Recorded;
  mqtt: MqttReport | null;
  hj212: Hj212Report[];
}

/** How many seqs of (from, through] the acknowledged ranges cover (they never overlap). */
export function coveredSeqs(ranges: readonly [number, number][], from: number, through: number): number {
  let n = 0;
  for (const [a, b] of ranges) n += Math.max(0, Math.min(b, through) - Math.max(a, from + 1) + 1);
  return n;
}

export async function commissionRun(loaded: LoadedConfig, o: RunOptions): Promise<RunFacts> {
  const clock = o.clock ?? systemClock;
  const gateway = new Gateway(loaded, { clock, ...(o.logger ? { logger: o.logger } : {}) });
  const publisher = gateway.uplinks.get('mqtt');
  const acked: [number, number][] = [];
  publisher?.on('acked', (from, to) => acked.push([from, to]));
  const fromSeq = gateway.log.lastSeq;
  try {
    gateway.start();
    await gateway.webUrl;
    const startedAt = clock.now();
    const begin = clock.monotonic();
    for (let elapsed = 0; elapsed < o.durationMs && !o.signal?.aborted;) {
      await clock.sleep(Math.min(1000, o.durationMs - elapsed));
      elapsed = clock.monotonic() - begin;
      o.onProgress?.(Math.min(elapsed, o.durationMs));
    }
    const throughSeq = gateway.log.lastSeq;
    const endedAt = clock.now();
    const health = gateway.acquisition.health();
    const committed = throughSeq - fromSeq;
    const drainEnd = clock.monotonic() + (o.drainMs ?? 10_000);
    while (
      publisher?.status().connected &&
      coveredSeqs(acked, fromSeq, throughSeq) < committed &&
      clock.monotonic() < drainEnd
    )
      await clock.sleep(100);
    let mqtt: MqttReport | null = null;
    if (publisher) {
      const s = publisher.status();
      mqtt = {
        connected: s.connected,
        committed,
        delivered: coveredSeqs(acked, fromSeq, throughSeq),
        backlog: s.backlog,
        reconnects: s.reconnects,
        publishErrors: s.publishErrors,
        refusedLogins: s.refusedLogins,
        fault: s.fault ? s.fault.message : null,
      };
    }
    const hj212 = [...gateway.hj212.values()].map((h): Hj212Report => {
      const s = h.status();
      return {
        platform: s.platform,
        state: s.state,
        answered: s.lastAnswer !== null && s.lastAnswer.ts >= startedAt,
        lastAnswer: s.lastAnswer ? { cn: s.lastAnswer.cn, ts: s.lastAnswer.ts } : null,
        uploads: s.uploads,
        resends: s.resends,
        backlog: s.backlog,
        lastError: s.lastError,
      };
    });
    const recorded = readRun(gateway.log, fromSeq, throughSeq);
    return { startedAt, endedAt, fromSeq, throughSeq, health, recorded, mqtt, hj212 };
  } finally {
    await gateway.stop();
  }
}
