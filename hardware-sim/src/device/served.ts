/**
 * What a simulated device has answered and served: requests answered with a sound reply, and
 * every point value those replies carried (the register words of each profile point a read
 * covered whole). This is the devices' side of the books: a witness holds what reached the
 * platform against it, so a reading the gateway never logged still counts as served.
 */
import type { ResolvedPoint } from '../../../gateway/src/profiles/index.js';

export interface ServedValue {
  device: string;
  point: string;
  /** Register words (or bits as 0/1) of the point, as sent. */
  words: number[];
  /** Wall-clock ms at which the reply went onto the wire. */
  at: number;
}

export interface ServedCounts {
  device: string;
  /** Requests answered with a sound reply (values or an exception). */
  answered: number;
  /** Point values served, over all points. */
  values: number;
  byPoint: Record<string, number>;
}

const READS = new Set([1, 2, 3, 4]);

/** The words (or bits) a read reply carries, from its PDU. */
function replyData(fc: number, reply: Buffer, quantity: number): number[] | undefined {
  const bytes = reply[1];
  if (bytes === undefined || reply.length < 2 + bytes) return undefined;
  const data = reply.subarray(2, 2 + bytes);
  if (fc === 3 || fc === 4) {
    if (bytes !== quantity * 2) return undefined;
    return Array.from({ length: quantity }, (_, i) => data.readUInt16BE(i * 2));
  }
  if (bytes !== Math.ceil(quantity / 8)) return undefined;
  return Array.from({ length: quantity }, (_, i) => (data[i >> 3]! >> (i & 7)) & 1);
}

export class ServedLedger {
  private answered = 0;
  private readonly byPoint = new Map<string, number>();
  private readonly listeners = new Set<(v: ServedValue) => void>();

  constructor(
    private readonly device: string,
    private readonly points: readonly ResolvedPoint[],
  ) {}

  /** Books a sound reply to `request` (both PDUs, without address or CRC) sent at `at`. */
  note(request: Buffer, reply: Buffer, at: number): void {
    this.answered++;
    const fc = request[0] ?? 0;
    if (!READS.has(fc) || reply[0] !== fc || request.length < 5) return;
    const address = request.readUInt16BE(1);
    const quantity = request.readUInt16BE(3);
    const data = replyData(fc, reply, quantity);
    if (!data) return;
    for (const p of this.points) {
      if (p.function !== fc || p.pdu < address || p.pdu + p.count > address + quantity) continue;
      const words = data.slice(p.pdu - address, p.pdu - address + p.count);
      this.byPoint.set(p.key, (this.byPoint.get(p.key) ?? 0) + 1);
      for (const l of this.listeners) l({ device: this.device, point: p.key, words, at });
    }
  }

  counts(): ServedCounts {
    let values = 0;
    for (const n of this.byPoint.values()) values += n;
    return {
      device: this.device,
      answered: this.answered,
      values,
      byPoint: Object.fromEntries(this.byPoint),
    };
  }

  /** Calls `listener` with every value served from now on; returns the way to stop. */
  onServed(listener: (v: ServedValue) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(): void {
    this.answered = 0;
    this.byPoint.clear();
  }
}
