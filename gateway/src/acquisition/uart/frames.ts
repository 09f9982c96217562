/**
 * Framing and checksums of the UART particulate sensors, from their datasheets (not Modbus):
 *
 * - Plantower PMS5003: `42 4D`, frame length (u16 BE, 28), 13 u16 BE data words, check code
 *   (u16 BE) = sum of every byte before it. Words 3-5 are PM1.0 / PM2.5 / PM10 in µg/m3 under
 *   atmospheric conditions, 6-11 particle counts per 0.1 L.
 * - Nova SDS011: `AA C0`, PM2.5 (u16 LE, ×10), PM10 (u16 LE, ×10), device id (2 bytes), check
 *   = low byte of the sum of the six data bytes, `AB`.
 *
 * A parser turns a byte stream into frame results: good values, a checksum error, or a frame
 * cut short (a new header before the frame was complete, or `flush()` after a silence). Bytes
 * that are not a header are skipped. Nothing ever turns a damaged frame into values.
 */
import { PM_SENSOR_POINTS } from '../../config/schema-pm-sensors.js';

export type FrameResult =
  { kind: 'ok'; values: Record<string, number> } | { kind: 'checksum' } | { kind: 'truncated' };

export interface FrameParser {
  readonly points: readonly string[];
  push(chunk: Buffer): FrameResult[];
  /** The line went quiet: a partial frame still held is cut short. */
  flush(): FrameResult[];
}

abstract class HeaderParser implements FrameParser {
  private rx: Buffer = Buffer.alloc(0);
  abstract readonly points: readonly string[];
  protected abstract readonly header: Buffer;
  protected abstract readonly length: number;
  protected abstract decode(frame: Buffer): FrameResult;

  push(chunk: Buffer): FrameResult[] {
    this.rx = Buffer.concat([this.rx, chunk]);
    const out: FrameResult[] = [];
    for (;;) {
      const start = this.rx.indexOf(this.header);
      if (start < 0) {
        // Keep a last byte that may begin a header.
        this.rx = this.rx.subarray(Math.max(0, this.rx.length - 1));
        if (this.rx[0] !== this.header[0]) this.rx = Buffer.alloc(0);
        return out;
      }
      this.rx = this.rx.subarray(start);
      const next = this.rx.indexOf(this.header, this.header.length);
      if (next >= 0 && next < this.length) {
        out.push({ kind: 'truncated' });
        this.rx = this.rx.subarray(next);
        continue;
      }
      if (this.rx.length < this.length) return out;
      out.push(this.decode(this.rx.subarray(0, this.length)));
      this.rx = this.rx.subarray(this.length);
    }
  }

  flush(): FrameResult[] {
    const partial = this.rx.indexOf(this.header) >= 0;
    this.rx = Buffer.alloc(0);
    return partial ? [{ kind: 'truncated' }] : [];
  }
}

export const PMS5003_POINTS = PM_SENSOR_POINTS.pms5003;

export class Pms5003Parser extends HeaderParser {
  readonly points = PMS5003_POINTS;
  protected readonly header = Buffer.from([0x42, 0x4d]);
  protected readonly length = 32;

  protected decode(f: Buffer): FrameResult {
    if (f.readUInt16BE(2) !== 28) return { kind: 'truncated' };
    let sum = 0;
    for (let i = 0; i < 30; i++) sum += f[i]!;
    if ((sum & 0xffff) !== f.readUInt16BE(30)) return { kind: 'checksum' };
    const word = (n: number) => f.readUInt16BE(4 + 2 * n);
    const values: Record<string, number> = {};
    PMS5003_POINTS.forEach((p, i) => (values[p] = word(i + 3)));
    return { kind: 'ok', values };
  }
}

export class Sds011Parser extends HeaderParser {
  readonly points = PM_SENSOR_POINTS.sds011;
  protected readonly header = Buffer.from([0xaa, 0xc0]);
  protected readonly length = 10;

  protected decode(f: Buffer): FrameResult {
    if (f[9] !== 0xab) return { kind: 'truncated' };
    let sum = 0;
    for (let i = 2; i < 8; i++) sum += f[i]!;
    if ((sum & 0xff) !== f[8]) return { kind: 'checksum' };
    return { kind: 'ok', values: { pm2_5: f.readUInt16LE(2) / 10, pm10: f.readUInt16LE(4) / 10 } };
  }
}

export function parserFor(model: 'pms5003' | 'sds011'): FrameParser {
  return model === 'pms5003' ? new Pms5003Parser() : new Sds011Parser();
}
