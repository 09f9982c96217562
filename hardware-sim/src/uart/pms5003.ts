/**
 * Plantower PMS5003 on its UART (9600 8N1). Data frame: 32 bytes, `42 4D`, length 28, thirteen
 * big-endian u16 values, then a 16-bit checksum that is the sum of every byte before it.
 * Commands are 7 bytes, `42 4D cmd dataH dataL` plus the same kind of sum: E1 mode (00 passive,
 * 01 active), E2 read in passive mode, E4 sleep (00) / wake (01). Mode and sleep commands are
 * acknowledged with an 8-byte frame `42 4D 00 04 cmd data sum`.
 */
import { UartDevice, type UartDeviceOptions } from './uart-device.js';

const HEADER = Buffer.from([0x42, 0x4d]);

/** The thirteen values of a data frame, in frame order. */
export const PMS5003_FIELDS = [
  'pm1_0_cf1',
  'pm2_5_cf1',
  'pm10_cf1',
  'pm1_0',
  'pm2_5',
  'pm10',
  'n0_3',
  'n0_5',
  'n1_0',
  'n2_5',
  'n5_0',
  'n10',
  'reserved',
] as const;
export type Pms5003Field = (typeof PMS5003_FIELDS)[number];

function sum(bytes: Uint8Array, end: number): number {
  let s = 0;
  for (let i = 0; i < end; i++) s += bytes[i]!;
  return s & 0xffff;
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(4 + payload.length + 2);
  out[0] = 0x42;
  out[1] = 0x4d;
  out.writeUInt16BE(payload.length + 2, 2);
  payload.copy(out, 4);
  out.writeUInt16BE(sum(out, out.length - 2), out.length - 2);
  return out;
}

/** The 32-byte data frame for these values (each clamped to 0..65535 and rounded). */
export function pms5003Frame(values: Partial<Record<Pms5003Field, number>>): Buffer {
  const payload = Buffer.alloc(26);
  PMS5003_FIELDS.forEach((f, i) => {
    payload.writeUInt16BE(Math.min(Math.max(Math.round(values[f] ?? 0), 0), 0xffff), 2 * i);
  });
  return frame(payload);
}

export type Pms5003Mode = 'active' | 'passive';

export class Pms5003 extends UartDevice {
  readonly fields: readonly string[] = PMS5003_FIELDS;
  private mode: Pms5003Mode;
  private asleep = false;

  constructor(o: UartDeviceOptions, mode: Pms5003Mode) {
    super(o);
    this.mode = mode;
  }

  protected streaming(): boolean {
    return this.mode === 'active' && !this.asleep;
  }

  /** Values now; the CF=1 values follow the atmospheric ones unless driven themselves. */
  values(): Record<Pms5003Field, number> {
    const v = Object.fromEntries(PMS5003_FIELDS.map((f) => [f, this.value(f)])) as Record<
      Pms5003Field,
      number
    >;
    const driven = (f: Pms5003Field) => this.driven(f);
    if (!driven('pm1_0_cf1')) v.pm1_0_cf1 = v.pm1_0;
    if (!driven('pm2_5_cf1')) v.pm2_5_cf1 = v.pm2_5;
    if (!driven('pm10_cf1')) v.pm10_cf1 = v.pm10;
    return v;
  }

  protected dataFrame(): Buffer {
    return pms5003Frame(this.values());
  }

  protected breakChecksum(f: Buffer): Buffer {
    const out = Buffer.from(f);
    out.writeUInt16BE((out.readUInt16BE(out.length - 2) + 1) & 0xffff, out.length - 2);
    return out;
  }

  protected parse(rx: Buffer): number {
    const skip = UartDevice.skipTo(rx, HEADER);
    if (skip > 0 || rx.length < 2) return skip;
    if (rx.length < 7) return 0;
    // A command whose checksum does not add up is ignored, as the sensor does.
    if (rx.readUInt16BE(5) !== sum(rx, 5)) return 2;
    this.command(rx[2]!, rx.readUInt16BE(3));
    return 7;
  }

  private command(cmd: number, data: number): void {
    if (this.asleep && !(cmd === 0xe4 && data === 1)) return;
    switch (cmd) {
      case 0xe1:
        this.mode = data === 0 ? 'passive' : 'active';
        this.send(frame(Buffer.from([cmd, data & 0xff])), 7);
        if (this.mode === 'active') this.restartCadence();
        break;
      case 0xe2:
        if (this.mode === 'passive') this.send(this.dataFrame(), 7);
        break;
      case 0xe4:
        if (data === 0) {
          this.send(frame(Buffer.from([cmd, 0])), 7);
          this.asleep = true;
        } else if (this.asleep) {
          // Waking starts the fan; the first frame follows one interval later.
          this.asleep = false;
          this.restartCadence();
        }
        break;
      default:
        break;
    }
  }
}
