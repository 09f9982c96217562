/**
 * The control interface: inject and clear faults, set point values, force states, power-cycle
 * devices, read and reset bus statistics. The HTTP interface and the CLI call exactly these.
 */
import { LantianError, type Clock } from '../../../gateway/src/core/index.js';
import type { BusStatsSnapshot } from '../bus/stats.js';
import type { ModbusDevice } from '../device/modbus-device.js';
import type { ServedCounts, ServedValue } from '../device/served.js';
import { DEVICE_STATES, type DeviceState } from '../device/status.js';
import type { PointValue } from '../device/encode.js';
import { FaultSpec, isAction, type ActiveFault, type FaultBook, type FaultKind } from '../faults.js';
import type { UartDevice } from '../uart/uart-device.js';

export interface SimBusInfo {
  name: string;
  kind: 'tcp' | 'rtu-tcp' | 'pty';
  /** tcp://host:port, rtu-tcp://host:port or the pty path the gateway opens. */
  address: string;
  port?: number;
  path?: string;
}

export interface RuntimeBus {
  info: SimBusInfo;
  stats(): BusStatsSnapshot;
  resetStats(): void;
  /** Breaks every link of the bus (connections closed, or the pty gone for offMs). */
  breakLinks(offMs: number): void;
  close(): Promise<void>;
}

export type RuntimeDevice =
  | { kind: 'modbus'; id: string; bus: string; device: ModbusDevice }
  | { kind: 'uart'; id: string; bus: string; device: UartDevice };

export interface ControlRuntime {
  faults: FaultBook;
  clock: Clock;
  buses: ReadonlyMap<string, RuntimeBus>;
  devices: ReadonlyMap<string, RuntimeDevice>;
  /** Fault kinds the device (or the bus, when device is undefined) can show. */
  kindsFor(bus: string, device: string | undefined): readonly FaultKind[];
}

export interface DeviceInfo {
  id: string;
  bus: string;
  kind: 'modbus' | 'uart';
  profile?: string;
  unitId?: number;
  power?: string;
  states?: DeviceState[];
}

const invalid = (message: string, context: Record<string, unknown> = {}) =>
  new LantianError('SIM_CONTROL_INVALID', message, { context });

export class SimControl {
  constructor(private readonly rt: ControlRuntime) {}

  /** Starts a fault. Power cycles and link drops on a whole bus act at once. */
  inject(input: unknown): ActiveFault {
    const parsed = FaultSpec.safeParse(input);
    if (!parsed.success) {
      throw invalid(
        `not a valid fault: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        {
          issues: parsed.error.issues,
        },
      );
    }
    const spec = parsed.data;
    const bus = spec.bus ?? this.device(spec.device!).bus;
    const runtimeBus = this.bus(bus);
    const kinds = this.rt.kindsFor(bus, spec.device);
    if (!kinds.includes(spec.kind)) {
      throw invalid(`fault ${spec.kind} cannot happen on ${spec.device ?? bus}`, {
        kind: spec.kind,
        possible: kinds,
      });
    }
    if (!isAction(spec)) return this.rt.faults.add(spec, this.rt.clock.now());
    // Actions happen now; they stay listed while the power or the line is off.
    const offMs = spec.offMs ?? 1000;
    if (spec.kind === 'drop') runtimeBus.breakLinks(offMs);
    else {
      for (const d of this.rt.devices.values())
        if (spec.device === undefined ? d.bus === bus : d.id === spec.device) d.device.powerCycle(offMs);
    }
    return this.rt.faults.add({ ...spec, durationMs: Math.max(offMs, 1) }, this.rt.clock.now());
  }

  /** Ends one fault, or every fault. Returns how many ended. */
  clear(id?: string): number {
    const n = this.rt.faults.clear(id);
    if (id !== undefined && n === 0) throw invalid(`no active fault "${id}"`, { id });
    return n;
  }

  faults(): ActiveFault[] {
    return this.rt.faults.list(this.rt.clock.now());
  }

  /** Holds a point at a value (null: back to its behaviour). */
  setPoint(device: string, point: string, value: PointValue | null): void {
    const d = this.device(device);
    if (d.kind === 'modbus') return d.device.setOverride(point, value ?? undefined);
    if (value !== null && typeof value !== 'number') throw invalid(`sensor values are numbers`, { value });
    d.device.setOverride(point, value ?? undefined);
  }

  /** Forces a state on for durationMs (Infinity or omitted: until turned off), or off with on=false. */
  setState(device: string, state: string, on: boolean, durationMs?: number): void {
    if (!(DEVICE_STATES as readonly string[]).includes(state))
      throw invalid(`unknown state "${state}"`, { state, known: DEVICE_STATES });
    const d = this.modbus(device);
    const s = state as DeviceState;
    d.setState(s, on ? this.rt.clock.now() + (durationMs ?? Infinity) : undefined);
  }

  powerCycle(device: string, offMs = 1000): ActiveFault {
    return this.inject({ kind: 'power-cycle', device, offMs });
  }

  stats(bus: string): BusStatsSnapshot {
    return this.bus(bus).stats();
  }

  allStats(): BusStatsSnapshot[] {
    return [...this.rt.buses.values()].map((b) => b.stats());
  }

  resetStats(bus?: string): void {
    if (bus === undefined) for (const b of this.rt.buses.values()) b.resetStats();
    else this.bus(bus).resetStats();
  }

  /** Per Modbus device: requests answered with a sound reply and point values served. */
  served(): ServedCounts[] {
    return this.modbusDevices().map((d) => d.served.counts());
  }

  /** Calls `listener` with every point value any Modbus device serves from now on. */
  onServed(listener: (v: ServedValue) => void): () => void {
    const offs = this.modbusDevices().map((d) => d.served.onServed(listener));
    return () => offs.forEach((off) => off());
  }

  resetServed(): void {
    for (const d of this.modbusDevices()) d.served.reset();
  }

  private modbusDevices(): ModbusDevice[] {
    return [...this.rt.devices.values()].flatMap((d) => (d.kind === 'modbus' ? [d.device] : []));
  }

  buses(): SimBusInfo[] {
    return [...this.rt.buses.values()].map((b) => b.info);
  }

  devices(): DeviceInfo[] {
    const mono = performance.now();
    return [...this.rt.devices.values()].map((d) =>
      d.kind === 'modbus'
        ? {
            id: d.id,
            bus: d.bus,
            kind: d.kind,
            profile: d.device.profile.id,
            unitId: d.device.unitId,
            power: d.device.power(mono).state,
            states: [...d.device.states()],
          }
        : { id: d.id, bus: d.bus, kind: d.kind },
    );
  }

  private bus(name: string): RuntimeBus {
    const b = this.rt.buses.get(name);
    if (!b) throw invalid(`no bus "${name}"`, { bus: name, known: [...this.rt.buses.keys()] });
    return b;
  }

  private device(id: string): RuntimeDevice {
    const d = this.rt.devices.get(id);
    if (!d) throw invalid(`no device "${id}"`, { device: id, known: [...this.rt.devices.keys()] });
    return d;
  }

  private modbus(id: string): ModbusDevice {
    const d = this.device(id);
    if (d.kind !== 'modbus')
      throw invalid(`device "${id}" is a UART sensor, not a Modbus device`, { device: id });
    return d.device;
  }
}
