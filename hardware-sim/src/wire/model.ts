/**
 * The serial wire-time model of a Modbus RTU bus. Pure functions: the acquisition benchmark
 * and the simulator's RTU buses both use these numbers, so they must not drift.
 *
 *   character time  = (1 start + dataBits + (parity ? 1 : 0) + stopBits) / baud
 *   silence (t3.5)  = 3.5 characters, or a fixed 1.75 ms above 19200 baud
 *   transaction     = request bytes + t3.5 + turnaround + response bytes + t3.5
 *
 * At 9600 8N1 a character takes 1.0417 ms and t3.5 3.6458 ms; an FC03 read of N registers is
 * an 8-byte request and a (5 + 2N)-byte reply, so it costs (20 + 2N) characters plus turnaround.
 */

export type Parity = 'none' | 'even' | 'odd';

export interface LineSettings {
  /** Bits per second, e.g. 9600. */
  baud: number;
  /** 7 or 8. */
  dataBits: 7 | 8;
  parity: Parity;
  /** 1 or 2. */
  stopBits: 1 | 2;
}

export const DEFAULT_LINE: LineSettings = { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

/** Bits one character takes on the wire, start and stop bits included. */
export function bitsPerCharacter(line: LineSettings): number {
  return 1 + line.dataBits + (line.parity === 'none' ? 0 : 1) + line.stopBits;
}

/** Milliseconds one character takes on the wire. */
export function characterTimeMs(line: LineSettings): number {
  return (bitsPerCharacter(line) * 1000) / line.baud;
}

/** The inter-frame silence t3.5 in milliseconds: 3.5 characters, fixed at 1.75 ms above 19200 baud. */
export function silenceMs(line: LineSettings): number {
  return line.baud > 19200 ? 1.75 : 3.5 * characterTimeMs(line);
}

/** Milliseconds `bytes` characters take on the wire. */
export function bytesTimeMs(bytes: number, line: LineSettings): number {
  return bytes * characterTimeMs(line);
}

/**
 * Wire time of one whole transaction in milliseconds: the request, a silence, the device's
 * turnaround, the reply and the silence after it. With `respBytes` 0 (no answer) the bus is
 * held for the request and one silence only.
 */
export function transactionWireTimeMs(
  reqBytes: number,
  respBytes: number,
  line: LineSettings,
  turnaroundMs = 0,
): number {
  const s = silenceMs(line);
  if (respBytes === 0) return bytesTimeMs(reqBytes, line) + s;
  return bytesTimeMs(reqBytes, line) + s + turnaroundMs + bytesTimeMs(respBytes, line) + s;
}

/** Milliseconds from the first request byte until the last reply byte has arrived. */
export function replyDelayMs(
  reqBytes: number,
  respBytes: number,
  line: LineSettings,
  turnaroundMs = 0,
): number {
  return bytesTimeMs(reqBytes, line) + silenceMs(line) + turnaroundMs + bytesTimeMs(respBytes, line);
}

/** Request and reply sizes in bytes (RTU: address + PDU + CRC) of an FC03/FC04 read of `n` registers. */
export function readRegistersSizes(n: number): { reqBytes: number; respBytes: number } {
  return { reqBytes: 8, respBytes: 5 + 2 * n };
}

/** Request and reply sizes in bytes of an FC01/FC02 read of `n` bits. */
export function readBitsSizes(n: number): { reqBytes: number; respBytes: number } {
  return { reqBytes: 8, respBytes: 5 + Math.ceil(n / 8) };
}

export interface MixEntry {
  reqBytes: number;
  /** 0 when the device did not answer. */
  respBytes: number;
  /** Device turnaround in ms. Default 0. */
  turnaroundMs?: number;
  /** How many transactions of this shape the mix holds. Default 1. */
  count?: number;
}

/**
 * Highest transaction rate (per second) the line can carry for this mix of transactions, if
 * every transaction followed the previous one with no idle time beyond the silences.
 */
export function theoreticalMaxRate(mix: readonly MixEntry[], line: LineSettings): number {
  let n = 0;
  let ms = 0;
  for (const e of mix) {
    const count = e.count ?? 1;
    n += count;
    ms += count * transactionWireTimeMs(e.reqBytes, e.respBytes, line, e.turnaroundMs ?? 0);
  }
  return ms === 0 ? 0 : (n * 1000) / ms;
}
