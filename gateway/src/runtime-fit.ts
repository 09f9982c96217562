/**
 * Whether node's V8 settings suit the site the gateway polls, by README.md's rules (measured in
 * docs/footprint.md): V8's lite mode only up to 1 000 readings/s; 64 MB of old space up to 5 000
 * points and 6 MB more per 1 000 points beyond; 2 GB above 30 000 readings/s. `lantian run` logs
 * every mismatch as a warning when it starts. deploy/lantian.service starts a small site's
 * daemon; a site that outgrows those flags says so in the journal instead of only running slower
 * or collecting garbage most of the time.
 */
import { getHeapStatistics } from 'node:v8';
import type { BusPlan } from './config/index.js';

/** Readings/s up to which README.md gives V8's lite mode (`--lite-mode`). */
export const LITE_MAX_READINGS_PER_SEC = 1000;
/** Lite mode's flags: `--no-expose-wasm` silences V8's warning that lite mode turns WebAssembly off. */
export const LITE_FLAGS = '--lite-mode --no-expose-wasm';
/** Old space, MB, of the site cap, for up to SITE_POINTS points. */
export const SITE_OLD_SPACE_MB = 64;
export const SITE_POINTS = 5000;
/** Old space, MB, a concentrator adds for each 1 000 points beyond SITE_POINTS. */
export const OLD_SPACE_MB_PER_1000_POINTS = 6;
/** Readings/s up to which the site cap's 2 MB semi-spaces and one V8 helper thread apply; 8 MB beyond. */
export const SMALL_YOUNG_MAX_READINGS_PER_SEC = 5000;
/** Readings/s above which the heap is a concentrator's: CONCENTRATOR_OLD_SPACE_MB of old space. */
export const CONCENTRATOR_READINGS_PER_SEC = 30_000;
export const CONCENTRATOR_OLD_SPACE_MB = 2048;
export const CONCENTRATOR_SEMI_SPACE_MB = 32;

/** What the running node was started with, as far as the rules care. */
export interface NodeRuntime {
  /** `--lite-mode` on node's command line (NODE_OPTIONS refuses it). */
  liteMode: boolean;
  /** V8's heap limit, MB: the old space plus the young generation (three semi-spaces). */
  heapLimitMb: number;
}

/** The polling plan's size: points polled and readings a second. */
export interface PlannedLoad {
  points: number;
  readingsPerSec: number;
}

/** The size of a polling plan: every polled point of every device, and the readings a second they ask for. */
export function loadOfPlan(plan: readonly BusPlan[]): PlannedLoad {
  let points = 0;
  let readingsPerSec = 0;
  for (const bus of plan)
    for (const d of bus.devices) {
      points += d.points.length;
      readingsPerSec += (d.points.length * 1000) / d.periodMs;
    }
  return { points, readingsPerSec };
}

export interface RuntimeAdvice {
  /** Which rule: `lite-mode` or `heap`. */
  rule: 'lite-mode' | 'heap';
  message: string;
}

export function nodeRuntime(): NodeRuntime {
  return {
    liteMode: process.execArgv.includes('--lite-mode'),
    heapLimitMb: getHeapStatistics().heap_size_limit / (1024 * 1024),
  };
}

/** The old space, MB, README.md gives a gateway with `load`. */
export function oldSpaceMbFor(load: PlannedLoad): number {
  if (load.readingsPerSec > CONCENTRATOR_READINGS_PER_SEC) return CONCENTRATOR_OLD_SPACE_MB;
  const beyond = Math.max(0, load.points - SITE_POINTS);
  return SITE_OLD_SPACE_MB + Math.ceil((beyond / 1000) * OLD_SPACE_MB_PER_1000_POINTS);
}

/**
 * node's flags README.md gives a gateway with `load` ("On the gateway"): the old space by points,
 * the young generation and V8's helper threads by rate, lite mode for a small site, a
 * concentrator's heap above CONCENTRATOR_READINGS_PER_SEC. `check-config --plan` prints them.
 */
export function nodeFlagsFor(load: PlannedLoad): string {
  const old = `--max-old-space-size=${oldSpaceMbFor(load)}`;
  if (load.readingsPerSec > CONCENTRATOR_READINGS_PER_SEC)
    return `${old} --max-semi-space-size=${CONCENTRATOR_SEMI_SPACE_MB}`;
  if (load.readingsPerSec > SMALL_YOUNG_MAX_READINGS_PER_SEC) return `${old} --max-semi-space-size=8`;
  const site = `${old} --max-semi-space-size=2 --v8-pool-size=1`;
  return load.readingsPerSec <= LITE_MAX_READINGS_PER_SEC ? `${site} ${LITE_FLAGS}` : site;
}

/** 12345.6 as "12,346", without Intl (whose locale data the daemon does not map: docs/footprint.md). */
const n = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** What to change in node's flags for `load`, one piece of advice per rule broken; none when they suit it. */
export function runtimeAdvice(rt: NodeRuntime, load: PlannedLoad): RuntimeAdvice[] {
  const advice: RuntimeAdvice[] = [];
  if (rt.liteMode && load.readingsPerSec > LITE_MAX_READINGS_PER_SEC)
    advice.push({
      rule: 'lite-mode',
      message: `node runs in V8's lite mode (--lite-mode), which README.md gives sites of up to ${n(LITE_MAX_READINGS_PER_SEC)} readings/s; this site plans ${n(load.readingsPerSec)}, each at about twice the CPU: start node without ${LITE_FLAGS}`,
    });
  const need = oldSpaceMbFor(load);
  if (rt.heapLimitMb < need) {
    const semi =
      load.readingsPerSec > CONCENTRATOR_READINGS_PER_SEC
        ? ` --max-semi-space-size=${CONCENTRATOR_SEMI_SPACE_MB}`
        : '';
    advice.push({
      rule: 'heap',
      message: `V8's heap limit is ${n(rt.heapLimitMb)} MB; ${n(load.points)} points at ${n(load.readingsPerSec)} readings/s need ${n(need)} MB of old space (README.md): start node with --max-old-space-size=${need}${semi}`,
    });
  }
  return advice;
}
