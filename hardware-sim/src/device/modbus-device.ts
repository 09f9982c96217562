/**
 * A simulated Modbus device built from a device profile: its registers hold the encoded value of
 * each point, driven by behaviours; its status points follow the state schedule; its quirks
 * (universal id, boot delay, largest read, turnaround, minimum gap) are honoured.
 */
import { LantianError, type Clock, type Flag } from '../../../gateway/src/core/index.js';
import type {
  ExampleSpec,
  Profile,
  ResolvedPoint,
  StatusMappingSpec,
} from '../../../gateway/src/profiles/index.js';
import { servePdu, type DataModel, type Refused } from '../modbus/pdu.js';
import type { Behaviour } from './behaviours.js';
import { encodeField, encodeWords, type PointValue } from './encode.js';
import { DeviceMemory, type Addressing } from './memory.js';
import { activeStates, type StateWindow } from './schedule.js';
import { ServedLedger } from './served.js';
import { STATE_FLAG, mappingsBySource, statusValue, type DeviceState } from './status.js';

export interface ModbusDeviceOptions {
  id: string;
  profile: Profile;
  unitId: number;
  /** Ms between the end of a request and the start of the reply. Default: the profile's quirk. */
  turnaroundMs?: number;
  /** Function codes the device implements. Default: those its profile's points need. */
  functions?: readonly number[];
  addressing?: Addressing;
  /** Registers served as they are, e.g. a profile example. Default: the profile's first example. */
  example?: ExampleSpec;
  /** Whether status points keep the example's contents while no state is active. */
  frozenStatus?: boolean;
  behaviours?: ReadonlyMap<string, Behaviour>;
  windows?: readonly StateWindow[];
  /** FC43 object 2 (major/minor revision). Default "1.0". */
  revision?: string;
  /** Whether the device boots with the simulator (its boot delay applies at start). Default true. */
  coldStart?: boolean;
  clock: Clock;
  /** Wall-clock ms at which the simulator started: behaviours count time from here. */
  startMs: number;
}

export type PowerState =
  { state: 'on' } | { state: 'off'; until: number } | { state: 'booting'; until: number };

export class ModbusDevice implements DataModel {
  readonly id: string;
  readonly profile: Profile;
  readonly unitId: number;
  readonly turnaroundMs: number;
  readonly maxReadRegisters: number;
  readonly maxReadBits: number;
  /** What this device has answered and served, for witnesses. */
  readonly served: ServedLedger;
  private readonly memory: DeviceMemory;
  private readonly example: ExampleSpec | undefined;
  private readonly functions: Set<number>;
  private readonly statusSources: Map<ResolvedPoint, StatusMappingSpec[]>;
  private readonly overrides = new Map<string, PointValue>();
  private readonly manualStates = new Map<DeviceState, number>();
  private offUntil = -Infinity;
  private bootedAt: number;
  private lastReplyEnd = -Infinity;

  constructor(private readonly o: ModbusDeviceOptions) {
    this.id = o.id;
    this.profile = o.profile;
    this.unitId = o.unitId;
    this.turnaroundMs = o.turnaroundMs ?? o.profile.quirks.turnaroundMs;
    this.maxReadRegisters = o.profile.quirks.maxReadRegisters;
    this.maxReadBits = o.profile.quirks.maxReadBits;
    this.served = new ServedLedger(o.id, o.profile.points);
    this.memory = new DeviceMemory(o.profile, o.addressing ?? 'span');
    this.functions = new Set(o.functions ?? this.defaultFunctions());
    this.statusSources = mappingsBySource(o.profile.status, o.profile.points);
    this.example = o.example ?? o.profile.examples[0];
    for (const r of this.example?.registers ?? []) this.memory.load(r.function, r.address, r.words);
    this.bootedAt = o.coldStart === false ? -Infinity : performance.now() + o.profile.quirks.bootDelayMs;
  }

  private defaultFunctions(): number[] {
    const m = this.memory;
    const fcs = ([1, 2, 3, 4] as const).filter((t) => m.has(t)) as number[];
    if (m.hasWritable(1)) fcs.push(5, 15);
    if (m.hasWritable(3)) fcs.push(6, 16);
    const id = this.o.profile.identification;
    if (id?.vendorName !== undefined || id?.productCode !== undefined) fcs.push(43);
    return fcs;
  }

  /** True for the device's own unit id and, if the profile says so, its universal id. */
  answersTo(unitId: number): boolean {
    return unitId === this.unitId || unitId === this.profile.quirks.answersOnUniversalId;
  }

  /** Power, boot delay and minimum gap: whether a request starting at `mono` gets an answer. */
  ready(mono: number): boolean {
    if (mono < this.offUntil || mono < this.bootedAt) return false;
    return mono - this.lastReplyEnd >= this.profile.quirks.minGapMs;
  }

  power(mono: number): PowerState {
    if (mono < this.offUntil) return { state: 'off', until: this.offUntil };
    if (mono < this.bootedAt) return { state: 'booting', until: this.bootedAt };
    return { state: 'on' };
  }

  /** Switches the device off for `offMs`, then it boots for the profile's boot delay. */
  powerCycle(offMs: number, mono = performance.now()): void {
    this.offUntil = mono + offMs;
    this.bootedAt = this.offUntil + this.profile.quirks.bootDelayMs;
  }

  noteReplyEnd(mono: number): void {
    this.lastReplyEnd = mono;
  }

  /** Refreshes the registers for the current time and serves one request PDU. */
  serve(pdu: Buffer, broadcast = false): Buffer | undefined {
    this.refresh();
    return servePdu(this, pdu, broadcast);
  }

  /** Holds a point at a value; undefined releases it to its behaviour or its starting words. */
  setOverride(point: string, value: PointValue | undefined): void {
    const p = this.pointOrThrow(point);
    if (value !== undefined) {
      // Encode once now, so a value the point cannot hold is refused here, not at the next read.
      if (p.type === 'bits') encodeField(p, value);
      else encodeWords(p, value);
      this.overrides.set(point, value);
      return;
    }
    this.overrides.delete(point);
    this.restoreBase(p);
  }

  /** Puts back the words a point's registers held at start. */
  private restoreBase(p: ResolvedPoint): void {
    const words = Array.from({ length: p.count }, (_, i) => this.baseWord(p.function, p.pdu + i));
    this.memory.load(p.function, p.pdu, words);
  }

  /** The word an address held at start (from the example served), 0 if none. */
  private baseWord(table: number, address: number): number {
    for (const r of this.example?.registers ?? []) {
      const i = address - r.address;
      if (r.function === table && i >= 0 && i < r.words.length) return r.words[i]!;
    }
    return 0;
  }

  /** Forces a state on (until `untilMs` wall-clock, Infinity for good) or off (undefined). */
  setState(state: DeviceState, untilMs: number | undefined): void {
    if (untilMs === undefined) this.manualStates.delete(state);
    else this.manualStates.set(state, untilMs);
  }

  states(nowMs = this.o.clock.now()): Set<DeviceState> {
    const s = activeStates(this.o.windows ?? [], nowMs);
    for (const [state, until] of this.manualStates) if (nowMs < until) s.add(state);
    return s;
  }

  pointOrThrow(key: string): ResolvedPoint {
    const p = this.profile.points.find((q) => q.key === key);
    if (!p) {
      throw new LantianError('SIM_CONTROL_INVALID', `device ${this.id} has no point "${key}"`, {
        context: { device: this.id, point: key, known: this.profile.points.map((q) => q.key) },
      });
    }
    return p;
  }

  /** Writes every driven point and the status points as they are at this moment. */
  refresh(): void {
    const now = this.o.clock.now();
    const t = (now - this.o.startMs) / 1000;
    for (const p of this.profile.points) {
      const value = this.overrides.get(p.key) ?? this.o.behaviours?.get(p.key)?.(t);
      if (value !== undefined) this.memory.writePoint(p, value);
    }
    const states = this.states(now);
    const flags = new Set<Flag>([...states].map((s) => STATE_FLAG[s]));
    for (const [point, mappings] of this.statusSources) {
      if (this.overrides.has(point.key)) continue;
      // A served example keeps its own status words whenever no state is forced on it.
      if (this.o.frozenStatus && states.size === 0) this.restoreBase(point);
      else {
        const v = statusValue(mappings, flags, (x) => fits(point, x));
        if (v !== undefined) this.memory.writePoint(point, v);
      }
    }
  }

  supports(fc: number): boolean {
    return this.functions.has(fc);
  }

  readBits(fc: 1 | 2, address: number, quantity: number): boolean[] | Refused {
    return this.memory.readBits(fc, address, quantity);
  }

  readRegisters(fc: 3 | 4, address: number, quantity: number): number[] | Refused {
    return this.memory.readWords(fc, address, quantity);
  }

  writeCoils(address: number, values: boolean[]): Refused | undefined {
    return this.memory.writeCoils(address, values);
  }

  writeRegisters(address: number, values: number[]): Refused | undefined {
    return this.memory.writeWords(address, values);
  }

  identification(): Map<number, string> {
    const id = this.profile.identification;
    return new Map([
      [0, id?.vendorName ?? this.profile.vendor],
      [1, id?.productCode ?? this.profile.model],
      [2, this.o.revision ?? '1.0'],
    ]);
  }
}

/** Whether a status value survives the point's encoding unchanged. */
function fits(point: ResolvedPoint, v: number): boolean {
  if (point.type === 'bits') return encodeField(point, v) * point.scale + point.offset === v;
  const raw = (v - point.offset) / point.scale;
  if (point.type === 'f32' || point.type === 'f64') return true;
  if (!Number.isInteger(Math.round(raw * 1e9) / 1e9)) return false;
  const limits: Record<string, [number, number]> = {
    u16: [0, 0xffff],
    i16: [-0x8000, 0x7fff],
    u32: [0, 0xffffffff],
    i32: [-0x80000000, 0x7fffffff],
  };
  const l = limits[point.type];
  return l === undefined ? raw >= 0 : raw >= l[0] && raw <= l[1];
}
