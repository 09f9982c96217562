/**
 * What happens to one Modbus request on a bus, before any wire timing: which device answers,
 * whether it can (power, boot delay, minimum gap), which fault hits it, and what reply goes out.
 * Shared by Modbus TCP and RTU buses; framing and timing are the transports' business.
 */
import type { ModbusDevice } from '../device/modbus-device.js';
import type { ActiveFault, FaultBook } from '../faults.js';
import { EXCEPTION, exceptionPdu } from '../modbus/pdu.js';
import { withCrc } from '../modbus/crc.js';
import { mulberry32 } from '../random.js';

export type Decision =
  | { kind: 'silent'; reason: 'no-device' | 'not-ready' | 'broadcast' | 'fault'; device?: ModbusDevice }
  | { kind: 'drop'; device: ModbusDevice; fault: ActiveFault }
  | {
      kind: 'reply';
      device: ModbusDevice;
      unitId: number;
      pdu: Buffer;
      turnaroundMs: number;
      extraDelayMs: number;
      fault?: ActiveFault;
      /** Other devices that answered the same (universal) id at the same time. */
      others: { unitId: number; pdu: Buffer }[];
    };

export interface BusContext {
  name: string;
  devices: readonly ModbusDevice[];
  faults: FaultBook;
  /** Wall-clock ms, for fault durations. */
  now(): number;
}

/** Serves a request; a failure inside the device model answers exception 04, as a device would. */
function serve(device: ModbusDevice, pdu: Buffer, broadcast = false): Buffer | undefined {
  try {
    return device.serve(pdu, broadcast);
  } catch {
    return broadcast ? undefined : exceptionPdu(pdu[0] ?? 0, EXCEPTION.DEVICE_FAILURE);
  }
}

export function decide(bus: BusContext, unitId: number, pdu: Buffer, mono: number): Decision {
  if (unitId === 0) {
    // Broadcast: every device executes writes, nobody answers.
    for (const d of bus.devices) if (d.ready(mono)) serve(d, pdu, true);
    return { kind: 'silent', reason: 'broadcast' };
  }
  const targets = bus.devices.filter((d) => d.answersTo(unitId));
  const device = targets[0];
  if (!device) return { kind: 'silent', reason: 'no-device' };
  if (!device.ready(mono)) return { kind: 'silent', reason: 'not-ready', device };
  const fault = bus.faults.take(device.id, bus.name, bus.now());
  const others = targets
    .slice(1)
    .filter((d) => d.ready(mono))
    .map((d) => ({ unitId, pdu: serve(d, pdu) ?? Buffer.alloc(0) }));
  const reply = (p: Buffer, extra: Partial<Extract<Decision, { kind: 'reply' }>> = {}): Decision => ({
    kind: 'reply',
    device,
    unitId,
    pdu: p,
    turnaroundMs: device.turnaroundMs,
    extraDelayMs: 0,
    others,
    ...(fault ? { fault } : {}),
    ...extra,
  });
  switch (fault?.spec.kind) {
    case undefined:
      return reply(serve(device, pdu) ?? Buffer.alloc(0));
    case 'no-answer':
      return { kind: 'silent', reason: 'fault', device };
    case 'drop':
      return { kind: 'drop', device, fault };
    case 'exception':
      return reply(exceptionPdu(pdu[0] ?? 0, fault.spec.exceptionCode ?? 4));
    case 'late-answer':
      return reply(serve(device, pdu) ?? Buffer.alloc(0), { extraDelayMs: fault.spec.delayMs ?? 500 });
    case 'wrong-unit-id':
      return reply(serve(device, pdu) ?? Buffer.alloc(0), {
        unitId: fault.spec.unitId ?? (unitId % 247) + 1,
      });
    case 'crc-error':
    case 'truncated':
    case 'garbage':
    case 'checksum-error':
    case 'power-cycle':
      // Frame-level faults: the reply is built normally and then damaged by the transport.
      return reply(serve(device, pdu) ?? Buffer.alloc(0));
  }
}

/**
 * Books a reply that went out on the wire with the device that sent it, when it is sound: no
 * collision, and no fault that damages the frame or sends it from another address.
 */
export function noteAnswered(d: Extract<Decision, { kind: 'reply' }>, request: Buffer, at: number): void {
  if (d.others.length > 0) return;
  const kind = d.fault?.spec.kind;
  if (kind !== undefined && kind !== 'late-answer' && kind !== 'exception' && kind !== 'power-cycle') return;
  d.device.served.note(request, d.pdu, at);
}

/** Noise bytes for the garbage fault, reproducible per fault. */
export function garbage(fault: ActiveFault, n: number): Buffer {
  const rng = mulberry32(Number(fault.id.slice(1)) * 7919 + fault.since);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
}

/**
 * Damages a finished frame as the fault says: a wrong CRC, a frame cut short, noise before or
 * instead of it.
 */
export function damage(frame: Buffer, fault: ActiveFault | undefined): Buffer {
  const kind = fault?.spec.kind;
  if (!fault || kind === undefined) return frame;
  if (kind === 'crc-error' || kind === 'checksum-error') {
    const out = Buffer.from(frame);
    out[out.length - 1]! ^= 0x5a;
    return out;
  }
  if (kind === 'truncated') {
    const keep = fault.spec.keepBytes ?? Math.floor(frame.length / 2);
    return frame.subarray(0, Math.min(keep, frame.length - 1));
  }
  if (kind === 'garbage') {
    const noise = garbage(fault, fault.spec.garbageBytes ?? 8);
    return fault.spec.garbageMode === 'replace' ? noise : Buffer.concat([noise, frame]);
  }
  return frame;
}

/** The RTU reply frame of a decision, with collisions merged as an RS-485 line would garble them. */
export function rtuReply(d: Extract<Decision, { kind: 'reply' }>): Buffer {
  let frame = damage(withCrc(Buffer.concat([Buffer.from([d.unitId]), d.pdu])), d.fault);
  for (const o of d.others) {
    const other = withCrc(Buffer.concat([Buffer.from([o.unitId]), o.pdu]));
    const merged = Buffer.alloc(Math.max(frame.length, other.length), 0xff);
    for (let i = 0; i < merged.length; i++) merged[i] = (frame[i] ?? 0xff) & (other[i] ?? 0xff);
    frame = merged;
  }
  return frame;
}
