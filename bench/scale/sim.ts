/**
 * A group of simulated Modbus TCP buses in its own process: each bus a server port on 127.0.0.1
 * with many unit ids, each unit a bench analyzer (bench/scale/profiles) answering at once. The
 * benchmark runs a few such processes so the devices do not share the gateway's event loop, and
 * reads their CPU use from /proc. The simulator runs from the compiled build, as the gateway does.
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_PROFILES_DIR } from '../../gateway/src/profiles/index.js';
import type * as SimulatorModule from '../../hardware-sim/src/index.js';
import type { Simulator } from '../../hardware-sim/src/index.js';
import { Child, serve } from './child.js';

/**
 * The simulator as the gateway runs, compiled (dist/, which the benchmark builds first): through
 * tsx every function made per request is also named at run time (esbuild's keepNames), CPU the
 * simulators take from the gateway on a shared machine (docs/benchmarks.md, "scale").
 */
const SIM_BUILD = new URL('../../dist/hardware-sim/src/index.js', import.meta.url).href;

export const BENCH_PROFILES = fileURLToPath(new URL('./profiles', import.meta.url));

export interface SimBus {
  name: string;
  /** Unit ids answering on this bus. */
  units: number[];
}

/** A running group of buses: its process and the port of each bus. */
export interface SimGroup {
  pid: number;
  ports: Map<string, number>;
  stop(): Promise<void>;
}

export async function startSimGroup(profile: string, buses: SimBus[]): Promise<SimGroup> {
  const child = Child.fork(import.meta.url);
  try {
    const ports = await child.call<[string, number][]>({ op: 'start', profile, buses });
    return { pid: child.pid, ports: new Map(ports), stop: () => child.stop() };
  } catch (e) {
    await child.stop();
    throw e;
  }
}

/** Device id of a unit in the simulator and in the generated site config. */
export function deviceId(bus: string, unit: number): string {
  return `${bus}-u${String(unit).padStart(3, '0')}`;
}

function child(): void {
  let sim: Simulator | undefined;
  serve(async (r) => {
    if (r.op === 'start') {
      const { parseScenario, startSimulator } = (await import(SIM_BUILD)) as typeof SimulatorModule;
      const buses = r.buses as SimBus[];
      const scenario = parseScenario({
        name: 'scale benchmark',
        seed: 7,
        buses: buses.map((b) => ({ name: b.name, kind: 'tcp' })),
        devices: buses.flatMap((b) =>
          b.units.map((unit) => ({
            id: deviceId(b.name, unit),
            profile: r.profile as string,
            unit,
            bus: b.name,
            coldStart: false,
          })),
        ),
      });
      sim = await startSimulator(scenario, { profilesDir: [DEFAULT_PROFILES_DIR, BENCH_PROFILES] });
      return sim.buses.map((b) => [b.name, b.port!]);
    }
    if (r.op === 'stop') await sim?.stop();
    return undefined;
  });
}

if (process.argv[2] === 'child') child();
