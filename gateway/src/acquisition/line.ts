/**
 * Serial line timing: character time and the RTU inter-frame silence. The planner prices
 * requests with these numbers and the bus keeps the silence between frames.
 */

export interface LineSettings {
  /** Baud rate, bits per second (1200–115200). */
  baud: number;
  /** Data bits per character, 7 or 8. Default 8. */
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

/** Bits on the wire per character: start + data + parity + stop. 8N1 = 10, 8E1 = 11. */
export function bitsPerChar(line: LineSettings): number {
  return 1 + (line.dataBits ?? 8) + ((line.parity ?? 'none') === 'none' ? 0 : 1) + (line.stopBits ?? 1);
}

/** Time one character occupies the line, in ms (9600 8N1: 1.0417 ms). */
export function charMs(line: LineSettings): number {
  return (bitsPerChar(line) * 1000) / line.baud;
}

/**
 * t3.5, the silence that ends an RTU frame, in ms. Above 19200 baud Modbus over Serial Line
 * V1.02 fixes it at 1.75 ms instead of 3.5 characters.
 */
export function interFrameSilenceMs(line: LineSettings): number {
  return line.baud > 19200 ? 1.75 : 3.5 * charMs(line);
}
