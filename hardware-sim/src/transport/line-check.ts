/**
 * Whether the gateway's end of a pty is set to the line's baud rate. A pty carries bytes
 * whatever both ends are set to; a real RS-485 line does not: a master at the wrong baud sends
 * what a slave reads as noise. Reading the other end's termios with `stty` (a few ms per frame)
 * lets a scenario that asks for it (`line.checkSettings`) behave so. Parity cannot be checked
 * this way: Linux keeps every pty at 8 data bits without parity, whatever a program sets.
 */
import { execFileSync } from 'node:child_process';

/** The baud rate the gateway's end holds now, or undefined when it cannot be read. */
export function ptyBaud(path: string): number | undefined {
  try {
    const text = execFileSync('stty', ['-F', path, 'speed'], { encoding: 'utf8', timeout: 2000 });
    const baud = Number(text.trim());
    return Number.isInteger(baud) && baud > 0 ? baud : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes as the slave hears them: unchanged when the bauds agree, noise otherwise. */
export function asHeard(bytes: Buffer, gatewayEnd: string, line: { baud: number }): Buffer {
  const baud = ptyBaud(gatewayEnd);
  if (baud === undefined || baud === line.baud) return bytes;
  return Buffer.from(bytes.map((b) => b ^ 0x5a));
}
