/**
 * Nova Fitness SDS011 on its UART (9600 8N1). Data frame: 10 bytes `AA C0 pm25L pm25H pm10L
 * pm10H id1 id2 sum AB`, values in 0.1 µg/m3, sum = low byte of the sum of bytes 2..7.
 * Commands: 19 bytes `AA B4 cmd data(12) idL idH sum AB` (sum over bytes 2..16; id FF FF
 * addresses any sensor); replies `AA C5 cmd ... AB`. Supported: 02 reporting mode, 04 query,
 * 05 set id, 06 sleep/work, 07 firmware version, 08 working period.
 */
import { UartDevice, type UartDeviceOptions } from './uart-device.js';

const HEADER = Buffer.from([0xaa, 0xb4]);

function checksum(bytes: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i <= to; i++) s += bytes[i]!;
  return s & 0xff;
}

function reply(kind: number, body: number[], id: number): Buffer {
  const out = Buffer.from([0xaa, kind, ...body, id & 0xff, id >> 8, 0, 0xab]);
  out[8] = checksum(out, 2, 7);
  return out;
}

/** The 10-byte data frame for PM2.5 and PM10 in µg/m3 (0.1 resolution) and a sensor id. */
export function sds011Frame(pm25: number, pm10: number, id: number): Buffer {
  const enc = (v: number) => Math.min(Math.max(Math.round(v * 10), 0), 0xffff);
  const a = enc(pm25);
  const b = enc(pm10);
  return reply(0xc0, [a & 0xff, a >> 8, b & 0xff, b >> 8], id);
}

export type Sds011Mode = 'active' | 'query';

export class Sds011 extends UartDevice {
  readonly fields: readonly string[] = ['pm2_5', 'pm10'];
  private mode: Sds011Mode;
  private asleep = false;
  private periodMin = 0;
  private sensorId: number;

  constructor(o: UartDeviceOptions, mode: Sds011Mode, sensorId: number) {
    super(o);
    this.mode = mode;
    this.sensorId = sensorId;
  }

  protected streaming(): boolean {
    return this.mode === 'active' && !this.asleep;
  }

  protected dataFrame(): Buffer {
    return sds011Frame(this.value('pm2_5'), this.value('pm10'), this.sensorId);
  }

  protected breakChecksum(f: Buffer): Buffer {
    const out = Buffer.from(f);
    out[8] = (out[8]! + 1) & 0xff;
    return out;
  }

  protected parse(rx: Buffer): number {
    const skip = UartDevice.skipTo(rx, HEADER);
    if (skip > 0 || rx.length < 2) return skip;
    if (rx.length < 19) return 0;
    if (rx[18] !== 0xab || rx[17] !== checksum(rx, 2, 16)) return 2;
    const target = rx.readUInt16LE(15);
    if (target === 0xffff || target === this.sensorId) this.command(rx);
    return 19;
  }

  private command(c: Buffer): void {
    const cmd = c[2]!;
    const set = c[3] === 1;
    if (this.asleep && cmd !== 0x06) return;
    switch (cmd) {
      case 0x02:
        if (set) this.mode = c[4] === 1 ? 'query' : 'active';
        this.answer([cmd, c[3]!, this.mode === 'query' ? 1 : 0, 0]);
        if (set && this.mode === 'active') this.restartCadence();
        break;
      case 0x04:
        this.send(this.dataFrame(), 19);
        break;
      case 0x05:
        this.sensorId = c.readUInt16LE(13);
        this.answer([cmd, 0, 0, 0]);
        break;
      case 0x06:
        if (set) {
          const wasAsleep = this.asleep;
          this.asleep = c[4] === 0;
          if (wasAsleep && !this.asleep) this.restartCadence();
        }
        if (!this.asleep || set) this.answer([cmd, c[3]!, this.asleep ? 0 : 1, 0]);
        break;
      case 0x07:
        this.answer([cmd, 18, 11, 16]);
        break;
      case 0x08:
        if (set) {
          this.periodMin = Math.min(c[4]!, 30);
          this.restartCadence(this.cadenceMs());
        }
        this.answer([cmd, c[3]!, this.periodMin, 0]);
        break;
      default:
        break;
    }
  }

  private answer(body: number[]): void {
    this.send(reply(0xc5, body, this.sensorId), 19);
  }

  /** A working period of n minutes sends one frame every n minutes; 0 is continuous. */
  protected override cadenceMs(): number {
    return this.periodMin === 0 ? this.o.intervalMs : this.periodMin * 60_000;
  }
}
