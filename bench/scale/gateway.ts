/**
 * The gateway under test: the build as shipped (`npm run build`, the bundle in dist/lantian) run
 * as `lantian run` in a process of its own, with a site config generated for the step (Modbus TCP
 * buses of bench analyzers, the log, MQTT at QoS 1) in a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import {
  CONCENTRATOR_OLD_SPACE_MB,
  CONCENTRATOR_READINGS_PER_SEC,
  CONCENTRATOR_SEMI_SPACE_MB,
  LITE_FLAGS,
  LITE_MAX_READINGS_PER_SEC,
  nodeFlagsFor,
  OLD_SPACE_MB_PER_1000_POINTS,
  SITE_POINTS,
  SMALL_YOUNG_MAX_READINGS_PER_SEC,
} from '../../gateway/src/runtime-fit.js';
import { BENCH_PROFILES, deviceId, type SimBus } from './sim.js';

/**
 * The bundle; with LANTIAN_BENCH_UNBUNDLED=1, tsc's files one by one (dist/gateway/src), to
 * compare the two in turn.
 */
const MAIN =
  process.env.LANTIAN_BENCH_UNBUNDLED === '1'
    ? fileURLToPath(new URL('../../dist/gateway/src/cli/main.js', import.meta.url))
    : fileURLToPath(new URL('../../dist/lantian/main.js', import.meta.url));

/**
 * The heap cap README.md recommends for the daemon of a site gateway: up to HEAP_CAP_POINTS
 * points and SMALL_YOUNG_MAX_RATE readings/s. The small young generation (2 MB semi-spaces) keeps
 * a polling gateway about 12 MB smaller than 8 MB ones, for some 12-15 % more CPU per reading.
 * One V8 helper thread (`--v8-pool-size=1`, four by default) takes 1-12 MB less and no more CPU
 * (docs/footprint.md, "V8's helper threads"). Up to LITE_MAX_RATE readings/s README.md adds V8's
 * lite mode (LITE_FLAGS; `--no-expose-wasm` silences V8's warning that lite mode turns WebAssembly
 * off): 7-8 MB less idle and 12 MB less at 1 000 readings/s, for 1.5 times the CPU per reading
 * there (docs/footprint.md, "Small sites: V8's lite mode").
 *
 * Above FAST_RATE the heap is a concentrator's: FAST_OLD_SPACE_MB of old space and
 * FAST_SEMI_SPACE_MB semi-spaces. At such rates what is in flight (the readings posted by the
 * acquisition thread, the group being committed, the uplink's window) outlives a small young
 * generation and is promoted, and V8 lets the old generation grow to 4 times what is live between
 * full collections only when its limit is 2 GB or more (on 64-bit; about 1.3 times below 256 MB),
 * so a smaller limit has the main thread, the gateway's bottleneck there, collecting garbage
 * (docs/footprint.md, "Old space at high rates").
 *
 * The rules themselves are the gateway's (gateway/src/runtime-fit.ts): `lantian run` checks its
 * own flags against them, and `check-config --plan` prints the flags for a site.
 */
export const SMALL_YOUNG_MAX_RATE = SMALL_YOUNG_MAX_READINGS_PER_SEC;
/** The site cap alone: the flags of a site past lite mode's rate, up to 5 000 points and readings/s. */
export const HEAP_CAP = nodeFlagsFor({ points: SITE_POINTS, readingsPerSec: SMALL_YOUNG_MAX_RATE });
export const LITE_MAX_RATE = LITE_MAX_READINGS_PER_SEC;
export { LITE_FLAGS };
export const HEAP_CAP_POINTS = SITE_POINTS;
export const HEAP_MB_PER_1000_POINTS = OLD_SPACE_MB_PER_1000_POINTS;
export const FAST_RATE = CONCENTRATOR_READINGS_PER_SEC;
export const FAST_OLD_SPACE_MB = CONCENTRATOR_OLD_SPACE_MB;
export const FAST_SEMI_SPACE_MB = CONCENTRATOR_SEMI_SPACE_MB;

/** The V8 flags README.md gives a gateway polling `points` points, `perSec` readings a second. */
export function heapCapFor(points: number, perSec: number): string {
  return nodeFlagsFor({ points, readingsPerSec: perSec });
}

export interface SiteSpec {
  gateway: string;
  profile: string;
  periodMs: number;
  buses: SimBus[];
  ports: Map<string, number>;
  brokerUrl: string;
  /** `gateway.acquisitionThread`: the buses polled in a worker thread (docs/acquisition.md). */
  thread: boolean;
  /** `buses.<id>.maxInFlight`: requests outstanding at once on each Modbus TCP connection. */
  maxInFlight: number;
}

/** The site config of a step, as an operator would write it. */
export function siteYaml(s: SiteSpec): string {
  return stringify({
    version: 1,
    site: { id: 'scale-bench', name: 'Scale benchmark' },
    gateway: { id: s.gateway, ...(s.thread ? { acquisitionThread: true } : {}) },
    buses: Object.fromEntries(
      s.buses.map((b) => [
        b.name,
        {
          kind: 'tcp',
          host: '127.0.0.1',
          port: s.ports.get(b.name)!,
          ...(s.maxInFlight > 1 ? { maxInFlight: s.maxInFlight } : {}),
        },
      ]),
    ),
    devices: Object.fromEntries(
      s.buses.flatMap((b) =>
        b.units.map((unit) => [
          deviceId(b.name, unit),
          { profile: s.profile, bus: b.name, unitId: unit, periodMs: s.periodMs },
        ]),
      ),
    ),
    // Health every 2 s: the subscriber reads the uplink backlog from it.
    uplinks: { mqtt: { url: s.brokerUrl, healthIntervalMs: 2000 } },
    storage: { path: 'log.db', quotaMb: 8192 },
  });
}

/**
 * Extra flags for the gateway's node from LANTIAN_BENCH_NODE_ARGS (space-separated), for a closer
 * look at a step: `--cpu-prof --cpu-prof-dir=…`, `--trace-gc` (NODE_OPTIONS refuses both).
 */
function nodeArgs(): string[] {
  return (process.env.LANTIAN_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

const running = new Set<ChildProcess>();

/** Kills every gateway still running (for exit and interrupt handlers: synchronous). */
export function killAllGateways(): void {
  for (const g of running) g.kill('SIGKILL');
  running.clear();
}

export interface RunningGateway {
  pid: number;
  /** Whether it is still running. */
  alive(): boolean;
  /** What it wrote to stdout and stderr so far (its log at level warn). */
  output(): string;
  /** SIGTERM, as systemd stops it; SIGKILL if it has not stopped in 15 s. */
  stop(): Promise<void>;
}

/**
 * Writes the site config into `dir` and starts the gateway on it, with the V8 flags `heapCap` or
 * none. They go on node's command line, as README.md's service does: NODE_OPTIONS refuses
 * `--lite-mode`.
 */
export function startGateway(dir: string, site: SiteSpec, heapCap: string | undefined): RunningGateway {
  const config = join(dir, 'site.yaml');
  writeFileSync(config, siteYaml(site));
  const logFile = join(dir, 'gateway.log');
  const out = openSync(logFile, 'w');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const capFlags = (heapCap ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [
      ...capFlags,
      ...nodeArgs(),
      MAIN,
      'run',
      '--config',
      config,
      '--profiles',
      BENCH_PROFILES,
      '--log-level',
      'warn',
    ],
    { cwd: dir, env, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  running.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    alive,
    output: () => readFileSync(logFile, 'utf8'),
    async stop() {
      if (!alive()) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
