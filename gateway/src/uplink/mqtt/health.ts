/** The retained `health` message: how far behind the uplink is and what the log has lost. */
import type { Cursor } from '../../store/cursors.js';
import type { Log } from '../../store/log.js';
import { CONTRACT_VERSION, type HealthMessage } from './contract.js';
import { recordTs } from './messages.js';
import type { ResolvedMqttOptions } from './options.js';
import type { PublisherStatus } from './publisher.js';

/** Timestamp of the oldest record this uplink has not delivered, or null when caught up. */
export function oldestUndeliveredTs(log: Log, cursor: Cursor): number | null {
  let pos = cursor.prefix;
  for (;;) {
    const done = cursor.doneRangeAtOrAfter(pos + 1);
    const upper = done ? done[0] - 1 : Number.MAX_SAFE_INTEGER;
    const first = log.read(pos, 1, upper)[0];
    if (first) return recordTs(first);
    if (!done) return null;
    pos = done[1];
  }
}

export function buildHealth(
  log: Log,
  cursor: Cursor,
  status: PublisherStatus,
  options: ResolvedMqttOptions,
  now: number,
): HealthMessage {
  const stats = log.stats();
  const oldest = oldestUndeliveredTs(log, cursor);
  const devices: HealthMessage['devices'] = {};
  for (const [id, c] of log.deviceCounters()) devices[id] = { ...c };
  return {
    v: CONTRACT_VERSION,
    gateway: options.gatewayId,
    ts: now,
    boot: stats.boot,
    logId: log.logId,
    log: { lastSeq: stats.lastSeq, bytes: stats.bytes, quotaBytes: log.quotaBytes ?? null },
    uplink: {
      lane: status.lane,
      ackedThrough: status.ackedThrough,
      backlog: status.backlog,
      oldestUndeliveredTs: oldest,
      oldestUndeliveredAgeMs: oldest === null ? null : Math.max(0, now - oldest),
      inFlight: status.inFlight,
      lastRefusal: status.lastRefusal ?? null,
      signingKey: status.signingKey ?? null,
    },
    counters: {
      gapEvents: stats.gapEvents,
      droppedRecords: stats.droppedRecords,
      publishErrors: status.publishErrors,
      reconnects: status.reconnects,
      refusedLogins: status.refusedLogins,
      pendingReadings: stats.pendingReadings,
      unloggedReadings: stats.unloggedReadings,
      logWriteFailures: stats.writeFailures,
    },
    devices,
  };
}
