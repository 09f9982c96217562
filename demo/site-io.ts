/**
 * The demo's construction site: the east-gate dust monitor (site-dust) drives a fog cannon on
 * the emulated Firmata board (hardware-sim/src/firmata/) that the gateway runs with johnny-five.
 * The chain, scripted on the demo's timeline:
 *
 *   dust rises -> exceedance (a real-time site limit) -> [snapshot forwarded] -> fog cannon on
 *   (after the linkage's hold time) -> dust falls -> off, no sooner than the minimum on-time
 *
 * The verdict reads the gateway's log once it has stopped, and the board's relay pin as the board
 * itself saw it. The snapshot step is a place kept for the cameras (docs/cameras.md once built):
 * its check joins the chain when the log holds a snapshot blob. Without socat there is no pty for
 * the board and the part says so instead of a verdict.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openLog } from '../gateway/src/store/index.js';
import { FirmataBoard } from '../hardware-sim/src/firmata/board.js';
import { FirmataLink } from '../hardware-sim/src/firmata/link.js';
import { countsForMa } from '../firmware/src/scaling.js';
import type { Check, DemoPart } from './parts.js';
import type { Raw } from './site.js';

const DEVICE = 'site-dust';
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

type EventRow = { ts: number; kind: string; payload: Record<string, unknown> };

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
  const edges: Edge[] = [];
  let watch: NodeJS.Timeout | undefined;
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
      await link.close();
    },
    verdict: (_ctx, ranForS) => [judgeChain(readEvents(join(dir, 'log.db')), edges, ranForS)],
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
          out.push({ ts: r.ts, kind: r.kind, payload: (r.payload ?? {}) as Record<string, unknown> });
      after = page.at(-1)!.seq;
    }
  } finally {
    log.close();
  }
}

/**
 * The chain's snapshot step: the place where the cameras' check goes once they exist (a snapshot
 * blob in the log, linked to the exceedance, forwarded on blob/<kind>). Until then it says so.
 */
function snapshotStep(): string {
  return '(snapshot: no cameras configured)';
}

/** The chain in order, each step after the one before it; the first missing step is named. */
export function judgeChain(events: readonly EventRow[], edges: readonly Edge[], ranForS: number): Check {
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
  const closed = edges.find((e) => e.level === 1);
  const opened = closed ? edges.find((e) => e.level === 0 && e.at > closed.at) : undefined;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const missing = !raised
    ? 'no exceedance of the site limit'
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
      `${snapshotStep()} -> fog cannon on ${s(on!.ts - raised!.ts)} later (${String(on!.payload.reason)}) ` +
      `-> dust fell -> off after ${s(ranMs)} (minimum ${SITE_IO.minOnS} s, ${String(off!.payload.reason)})` +
      `${cleared ? ', exceedance cleared' : ''}; the board's relay was closed for ${s(opened!.at - closed!.at)}`,
  };
}
