/**
 * The site's cameras as a gateway part: snapshots on a schedule, on events in the log
 * (an exceedance raised, by default) and on demand (the `snapshot` command), each stored as a
 * blob in the log beside what asked for it (the event's seq and the newest readings of the
 * device it names), then forwarded like every record. One picture at a time per camera. Each
 * camera is online or offline by its last attempt; a change is an event in the log
 * (`camera_offline` with the error code, `camera_online`), and health carries the state.
 */
import type { Clock } from '../core/clock.js';
import { isLantianError, LantianError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CameraConfig } from '../config/schema-cameras.js';
import type { Log } from '../store/log.js';
import type { BlobTrigger, LogRecord } from '../store/records.js';
import { CameraClient } from './camera.js';
import type { Credentials, Picture } from './snapshot.js';

/** Blob kind of camera pictures: the MQTT topic is blob/snapshot. */
export const SNAPSHOT_KIND = 'snapshot';

export interface CameraHealth {
  camera: string;
  state: 'unknown' | 'online' | 'offline';
  snapshots: number;
  failures: number;
  lastSnapshot: { seq: number; ts: number; bytes: number } | null;
  lastError: { code: string; message: string; ts: number } | null;
}

export interface TakenSnapshot {
  camera: string;
  seq: number;
  ts: number;
  bytes: number;
}

/** A camera as the service needs it: its settings and a way to take a picture. */
export interface CameraSource {
  id: string;
  config: CameraConfig;
  take(): Promise<Picture>;
}

interface Entry {
  source: CameraSource;
  health: CameraHealth;
  /** The picture being taken now, which the next one waits for. */
  busy: Promise<unknown>;
  lastEventShot: number;
}

/** Events the service writes itself; never a trigger, or one offline camera would feed itself. */
const OWN_EVENTS = new Set(['camera_offline', 'camera_online']);

export class CameraService {
  private readonly entries = new Map<string, Entry>();
  private abort: AbortController | undefined;
  private unsubscribe: (() => void) | undefined;
  private eventPos = 0;
  private following = false;

  constructor(
    sources: readonly CameraSource[],
    private readonly log: Log,
    private readonly env: { clock: Clock; logger: Logger },
  ) {
    for (const source of sources) {
      // The newest picture in the log, so a restart does not show "none yet".
      const last = log.latestBlob(SNAPSHOT_KIND, source.id);
      this.entries.set(source.id, {
        source,
        health: {
          camera: source.id,
          state: 'unknown',
          snapshots: 0,
          failures: 0,
          lastSnapshot: last ? { seq: last.seq, ts: last.ts, bytes: last.bytes.length } : null,
          lastError: null,
        },
        busy: Promise.resolve(),
        lastEventShot: Number.NEGATIVE_INFINITY,
      });
    }
  }

  /** Cameras from the site config, with their passwords. */
  static fromConfig(
    cameras: Record<string, CameraConfig>,
    credentials: (id: string, c: CameraConfig) => Credentials,
    log: Log,
    env: { clock: Clock; logger: Logger },
  ): CameraService {
    const sources = Object.entries(cameras).map(
      ([id, c]) => new CameraClient(id, c, credentials(id, c), () => env.clock.now()),
    );
    return new CameraService(sources, log, env);
  }

  get ids(): string[] {
    return [...this.entries.keys()];
  }

  start(): void {
    if (this.abort) return;
    this.abort = new AbortController();
    // Events logged before the start were judged by the run that logged them.
    this.eventPos = this.log.lastSeq;
    this.unsubscribe = this.log.onAppend(() => this.followEvents());
    for (const e of this.entries.values()) {
      if (e.source.config.everyS > 0) void this.periodic(e, this.abort.signal);
    }
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    this.unsubscribe?.();
    await Promise.allSettled([...this.entries.values()].map((e) => e.busy));
  }

  health(): CameraHealth[] {
    return [...this.entries.values()].map((e) => ({ ...e.health }));
  }

  /** Takes a picture now and stores it; throws CAMERA_* (and records the camera offline) on failure. */
  snapshot(camera: string, trigger: BlobTrigger): Promise<TakenSnapshot> {
    const e = this.entries.get(camera);
    if (!e) {
      return Promise.reject(
        new LantianError(
          'CAMERA_UNKNOWN',
          `no camera "${camera}" in the site config (cameras: ${this.ids.join(', ') || 'none'})`,
          {
            context: { camera, cameras: this.ids },
          },
        ),
      );
    }
    const run = e.busy.then(() => this.take(e, trigger));
    e.busy = run.catch(() => undefined);
    return run;
  }

  private async take(e: Entry, trigger: BlobTrigger): Promise<TakenSnapshot> {
    const { clock, logger } = this.env;
    const id = e.source.id;
    let picture: Picture;
    try {
      picture = await e.source.take();
    } catch (err) {
      e.health.failures++;
      const code = isLantianError(err) ? err.code : 'CAMERA_UNREACHABLE';
      const message = (err as Error).message;
      e.health.lastError = { code, message, ts: clock.now() };
      if (e.health.state !== 'offline') {
        e.health.state = 'offline';
        logger.warn({ camera: id, code, err: message }, 'camera offline');
        this.log.appendEvent({
          ts: clock.now(),
          kind: 'camera_offline',
          payload: { camera: id, code, message },
        });
      }
      throw err;
    }
    const ts = clock.now();
    if (e.health.state === 'offline') {
      logger.info({ camera: id }, 'camera online again');
      this.log.appendEvent({ ts, kind: 'camera_online', payload: { camera: id } });
    }
    e.health.state = 'online';
    const seq = this.log.appendBlob({
      ts,
      kind: SNAPSHOT_KIND,
      contentType: picture.contentType,
      bytes: picture.bytes,
      source: id,
      trigger,
    });
    e.health.snapshots++;
    e.health.lastSnapshot = { seq, ts, bytes: picture.bytes.length };
    logger.info({ camera: id, seq, bytes: picture.bytes.length, reason: trigger.reason }, 'snapshot stored');
    return { camera: id, seq, ts, bytes: picture.bytes.length };
  }

  /** A picture every `everyS`, each wait starting when the last picture is done (never piling up). */
  private async periodic(e: Entry, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.env.clock.sleep(e.source.config.everyS * 1000, signal);
      } catch {
        return;
      }
      await this.snapshot(e.source.id, { reason: 'periodic' }).catch(() => undefined);
    }
  }

  /** Reads the events appended since the last look and takes the pictures they ask for. */
  private followEvents(): void {
    if (this.following || this.abort?.signal.aborted) return;
    this.following = true;
    try {
      for (;;) {
        const events = this.log.readEvents(this.eventPos, 200);
        this.eventPos = Math.max(this.eventPos, this.log.lastSeq);
        for (const ev of events) this.onEvent(ev as Extract<LogRecord, { type: 'event' }>);
        if (events.length < 200) break;
      }
    } finally {
      this.following = false;
    }
  }

  private onEvent(ev: Extract<LogRecord, { type: 'event' }>): void {
    if (OWN_EVENTS.has(ev.kind)) return;
    const p = (ev.payload ?? {}) as { state?: unknown; device?: unknown; point?: unknown };
    if (p.state !== undefined && p.state !== 'raised') return;
    const device = typeof p.device === 'string' ? p.device : undefined;
    const point = typeof p.point === 'string' ? p.point : undefined;
    const now = this.env.clock.monotonic();
    for (const e of this.entries.values()) {
      const c = e.source.config;
      if (!c.onEvents.includes(ev.kind)) continue;
      if (c.devices && (device === undefined || !c.devices.includes(device))) continue;
      if (now - e.lastEventShot < c.minGapS * 1000) continue;
      e.lastEventShot = now;
      const trigger: BlobTrigger = {
        reason: 'event',
        event: ev.seq,
        eventKind: ev.kind,
        ...(device === undefined ? {} : { device }),
        ...(point === undefined ? {} : { point }),
      };
      if (device !== undefined) {
        const readings = this.log.latestReadingSeqs(device, point);
        if (readings.length > 0) trigger.readings = readings;
      }
      void this.snapshot(e.source.id, trigger).catch((err: unknown) =>
        this.env.logger.warn({ camera: e.source.id, event: ev.seq, err }, 'no snapshot for the event'),
      );
    }
  }
}
