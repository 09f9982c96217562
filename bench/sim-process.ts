/**
 * The simulator in its own process for `bench:acquisition`, so the gateway's event loop is not
 * shared with the devices it measures: the child runs the simulator (real sockets and ptys) and
 * takes commands over the IPC channel; the parent sees its buses, faults and statistics.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BusStatsSnapshot, Simulator } from '../hardware-sim/src/index.js';
import { startSim, type SimDevice, type SimKind } from '../test/fixtures/acquisition/sim.js';

type Command =
  | { op: 'start'; buses: { name: string; kind: SimKind }[]; devices: SimDevice[] }
  | { op: 'inject'; fault: Record<string, unknown> }
  | { op: 'resetStats'; bus: string }
  | { op: 'stats'; bus: string }
  | { op: 'stop' };

interface Answer {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** The parent's handle on a simulator running in a child process. */
export class SimProcess {
  private next = 0;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  buses: Simulator['buses'] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (a: Answer) => {
      this.waiting.get(a.id)?.(a);
      this.waiting.delete(a.id);
    });
  }

  static async start(buses: { name: string; kind: SimKind }[], devices: SimDevice[]): Promise<SimProcess> {
    const child = fork(fileURLToPath(import.meta.url), ['child'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const sim = new SimProcess(child);
    sim.buses = (await sim.call({ op: 'start', buses, devices })) as Simulator['buses'];
    return sim;
  }

  private call(cmd: Command): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (a) => (a.ok ? resolve(a.value) : reject(new Error(a.error))));
      this.child.send({ id, ...cmd });
    });
  }

  inject(fault: Record<string, unknown>): Promise<unknown> {
    return this.call({ op: 'inject', fault });
  }

  resetStats(bus: string): Promise<unknown> {
    return this.call({ op: 'resetStats', bus });
  }

  async stats(bus: string): Promise<BusStatsSnapshot> {
    return (await this.call({ op: 'stats', bus })) as BusStatsSnapshot;
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call({ op: 'stop' });
    await exited;
  }
}

/** The child: one simulator, driven by the parent's commands. */
function child(): void {
  let sim: Simulator | undefined;
  const handle = async (cmd: Command): Promise<unknown> => {
    switch (cmd.op) {
      case 'start':
        sim = await startSim(cmd.buses, cmd.devices);
        return sim.buses;
      case 'inject':
        return sim!.control.inject(cmd.fault);
      case 'resetStats':
        return sim!.control.resetStats(cmd.bus);
      case 'stats':
        return sim!.stats(cmd.bus);
      case 'stop':
        await sim?.stop();
        return undefined;
    }
  };
  process.on('message', (m: Command & { id: number }) => {
    handle(m).then(
      (value) => {
        process.send!({ id: m.id, ok: true, value: JSON.parse(JSON.stringify(value ?? null)) });
        if (m.op === 'stop') process.disconnect();
      },
      (e: unknown) => process.send!({ id: m.id, ok: false, error: String(e) }),
    );
  });
}

if (process.argv[2] === 'child') child();
