/**
 * The demo's construction site: the east-gate dust monitor (site-dust) drives a fog cannon on
 * the emulated Firmata board (hardware-sim/src/firmata/) that the gateway runs with johnny-five.
 * The chain, scripted on the demo's timeline:
 *
 *   dust rises -> exceedance (a real-time site limit) -> [snapshot forwarded] -> fog cannon on
 *   (after the linkage's hold time) -> dust falls -> off, no sooner than the minimum on-time
 *
 * The verdict reads the gateway's log once it has stopped, and the board's relay pin as the board
 * itself saw it, and the snapshot as the platform received it: the gate camera (a simulated
 * Hikvision camera with digest authentication, docs/cameras.md) takes a picture on the
 * exceedance, and the picture must reach the platform whole, byte for byte as the camera served
 * it, linked to that exceedance. Without socat there is no pty for the board and the part says so
 * instead of a verdict.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLog } from '../gateway/src/store/index.js';
import { FirmataBoard } from '../hardware-sim/src/firmata/board.js';
import { FirmataLink } from '../hardware-sim/src/firmata/link.js';
import { countsForMa } from '../firmware/src/scaling.js';
import { startCamera } from '../hardware-sim/src/camera/index.js';
import type { ReceivedBlob } from '../hardware-sim/src/platform/index.js';
import type { Check, DemoPart } from './parts.js';
import type { Raw } from './site.js';

const DEVICE = 'site-dust';
const CAMERA = 'gate-cam';
const FOG_PIN = 8;
/** µg/m3: the real-time site limit and the linkage thresholds. */
export const SITE_IO = {
  limit: 150,
  onAbove: 150,
  offBelow: 100,
  holdS: 4,
  minOnS: 8,
  high: 420,
  low: 60,
  /** When the dust rises and falls, seconds from the timeline's zero. */
  riseAtS: 2,
  fallAtS: 12,
};

interface Edge {
  at: number;
  level: 0 | 1;
}

type EventRow = { seq: number; ts: number; kind: string; payload: Record<string, unknown> };

/** The part, with the board already on its pty (the gateway's config names the path). */
export async function siteIoPart(dir: string): Promise<DemoPart> {
  const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  if (!hasSocat)
    return {
      name: 'site-io',
      verdict: () => [
        { ok: undefined, text: 'site-io: not shown: socat is needed for the Firmata board’s pty' },
      ],
    };
  const board = new FirmataBoard({ bootMs: 30 });
  board.setAnalog('A0', countsForMa(12));
  // On its pty before the gateway starts, as a board is plugged in before the service runs.
  const link = await FirmataLink.open({ board, ptyPath: join(dir, 'ttyACM0') });
  const camera = await startCamera({
    id: CAMERA,
    style: 'hikvision',
    port: 0,
    username: 'admin',
    password: 'demo-gate-cam',
  });
  const edges: Edge[] = [];
  let watch: NodeJS.Timeout | undefined;
  let pictures: NodeJS.Timeout | undefined;
  const timers: NodeJS.Timeout[] = [];
  return {
    name: 'site-io',
    configure: (raw: Raw) => {
      raw.siteIo = {
        board: { port: join(dir, 'ttyACM0') },
        periodS: 5,
        analogInputs: { water_pressure: { pin: 'A0', signal: '4-20mA', range: [0, 1000], unit: 'kPa' } },
        relays: {
          fog_cannon: {
            pin: FOG_PIN,
            failSafe: 'off',
            linkage: {
              point: `${DEVICE}/pm10`,
              onAbove: SITE_IO.onAbove,
              offBelow: SITE_IO.offBelow,
              holdS: SITE_IO.holdS,
              minOnS: SITE_IO.minOnS,
              minOffS: 0,
            },
          },
        },
      };
      raw.dust = { limits: { [`${DEVICE}/pm10`]: { max: SITE_IO.limit, averaging: 'realtime' } } };
      appendFileSync(raw.secretsFile as string, `${CAMERA}: '${camera.options.password}'\n`);
      raw.cameras = {
        [CAMERA]: {
          protocol: 'hikvision',
          url: camera.url,
          username: camera.options.username,
          password: { secret: CAMERA },
          onEvents: ['exceedance'],
          devices: [DEVICE],
          minGapS: 60,
          timeoutMs: 5000,
        },
      };
    },
    start: (ctx) => {
      let last = board.level(FOG_PIN);
      watch = setInterval(() => {
        const level = board.level(FOG_PIN);
        if (level === last) return;
        last = level;
        edges.push({ at: Date.now(), level });
        ctx.note(`board: fog cannon relay (pin ${FOG_PIN}) ${level ? 'closed' : 'open'}`);
      }, 20);
      const noted = new Set<number>();
      pictures = setInterval(() => {
        for (const b of ctx.platform.blobs.values()) {
          if (b.kind !== 'snapshot' || noted.has(b.seq)) continue;
          noted.add(b.seq);
          ctx.note(
            `platform: snapshot from ${b.source ?? '?'} (${b.bytes.length} bytes in ${b.parts} ` +
              `message${b.parts === 1 ? '' : 's'}, seq ${b.seq}, ${String(b.trigger?.eventKind ?? b.trigger?.reason)})`,
          );
        }
      }, 100);
      timers.push(
        setTimeout(() => {
          ctx.note(`${DEVICE} PM10 rises to ${SITE_IO.high} µg/m3 (site limit ${SITE_IO.limit})`);
          ctx.sim.control.setPoint(DEVICE, 'pm10', SITE_IO.high);
        }, SITE_IO.riseAtS * 1000),
        setTimeout(() => {
          ctx.note(`${DEVICE} PM10 falls to ${SITE_IO.low} µg/m3 (fog cannon off below ${SITE_IO.offBelow})`);
          ctx.sim.control.setPoint(DEVICE, 'pm10', SITE_IO.low);
        }, SITE_IO.fallAtS * 1000),
      );
    },
    stop: async () => {
      timers.forEach(clearTimeout);
      clearInterval(watch);
      clearInterval(pictures);
      await link.close();
      await camera.close();
    },
    verdict: (ctx, ranForS) => [
      judgeChain(readEvents(join(dir, 'log.db')), edges, ranForS, {
        blobs: [...ctx.platform.blobs.values()],
        served: camera.served.map((x) => x.jpeg),
      }),
    ],
  };
}

function readEvents(path: string): EventRow[] {
  const log = openLog({ path, integrityCheck: 'none' });
  try {
    const out: EventRow[] = [];
    for (let after = 0; ;) {
      const page = log.readEvents(after, 10_000);
      if (page.length === 0) return out;
      for (const r of page)
        if (r.type === 'event')
          out.push({
            seq: r.seq,
            ts: r.ts,
            kind: r.kind,
            payload: (r.payload ?? {}) as Record<string, unknown>,
          });
      after = page.at(-1)!.seq;
    }
  } finally {
    log.close();
  }
}

/** What the platform received on blob/snapshot, and the pictures the camera served. */
export interface Pictures {
  blobs: readonly Pick<ReceivedBlob, 'seq' | 'kind' | 'source' | 'trigger' | 'bytes' | 'parts'>[];
  served: readonly Buffer[];
}

/** The snapshot the exceedance asked for, as the platform holds it, if it is exactly a served picture. */
function snapshotOf(raised: EventRow, pictures: Pictures) {
  return pictures.blobs.find(
    (b) =>
      b.kind === 'snapshot' &&
      b.source === CAMERA &&
      b.trigger?.reason === 'event' &&
      b.trigger.event === raised.seq &&
      pictures.served.some((jpeg) => jpeg.equals(b.bytes)),
  );
}

/** The chain in order, each step after the one before it; the first missing step is named. */
export function judgeChain(
  events: readonly EventRow[],
  edges: readonly Edge[],
  ranForS: number,
  pictures: Pictures,
): Check {
  const mine = (e: EventRow) => e.payload.device === DEVICE && e.payload.point === 'pm10';
  const raised = events.find((e) => e.kind === 'exceedance' && mine(e) && e.payload.state === 'raised');
  const relay = (on: boolean) =>
    events.find(
      (e) =>
        e.kind === 'relay' &&
        e.payload.relay === 'fog_cannon' &&
        e.payload.on === on &&
        e.ts >= (raised?.ts ?? 0),
    );
  const on = relay(true);
  const off = on
    ? events.find(
        (e) =>
          e.kind === 'relay' && e.payload.relay === 'fog_cannon' && e.payload.on === false && e.ts > on.ts,
      )
    : undefined;
  const cleared = events.find((e) => e.kind === 'exceedance' && mine(e) && e.payload.state === 'cleared');
  const snapshot = raised ? snapshotOf(raised, pictures) : undefined;
  const closed = edges.find((e) => e.level === 1);
  const opened = closed ? edges.find((e) => e.level === 0 && e.at > closed.at) : undefined;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const missing = !raised
    ? 'no exceedance of the site limit'
    : !snapshot
      ? 'no snapshot of the exceedance reached the platform as the camera took it'
      : !on
        ? 'the fog cannon did not switch on after the exceedance'
        : !closed
          ? 'the board never closed the fog cannon relay'
          : !off || !opened
            ? 'the fog cannon did not switch off after the dust fell'
            : undefined;
  if (missing !== undefined) {
    const early = ranForS < SITE_IO.fallAtS + SITE_IO.minOnS + 4;
    return { ok: early ? undefined : false, text: `site-io: ${missing}` };
  }
  const ranMs = off!.ts - on!.ts;
  const ok =
    ranMs >= SITE_IO.minOnS * 1000 &&
    on!.payload.reason === 'dust_high' &&
    off!.payload.reason === 'dust_low';
  return {
    ok,
    text:
      `site-io: dust rose -> exceedance ${String(raised!.payload.value)} > ${SITE_IO.limit} µg/m3 -> ` +
      `snapshot forwarded (${snapshot!.bytes.length} bytes, seq ${snapshot!.seq}) -> fog cannon on ${s(on!.ts - raised!.ts)} later (${String(on!.payload.reason)}) ` +
      `-> dust fell -> off after ${s(ranMs)} (minimum ${SITE_IO.minOnS} s, ${String(off!.payload.reason)})` +
      `${cleared ? ', exceedance cleared' : ''}; the board's relay was closed for ${s(opened!.at - closed!.at)}`,
  };
}
