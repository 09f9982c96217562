/** An emulated Firmata board on a socat pty, and johnny-five connected to it the way a gateway is. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import bindFirmata from 'firmata-io';
import five from 'johnny-five';
import { FirmataBoard } from '../../../hardware-sim/src/firmata/board.js';
import { FirmataLink } from '../../../hardware-sim/src/firmata/link.js';

export interface EmulatedBoard {
  board: FirmataBoard;
  link: FirmataLink;
  path: string;
  close(): Promise<void>;
}

export async function emulatedBoard(): Promise<EmulatedBoard> {
  const dir = await mkdtemp(join(tmpdir(), 'lantian-firmata-'));
  const path = join(dir, 'ttyACM0');
  const board = new FirmataBoard({ bootMs: 30 });
  const link = await FirmataLink.open({ board, ptyPath: path });
  return {
    board,
    link,
    path,
    close: async () => {
      await link.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** johnny-five on the pty, resolved when it is ready. */
export async function johnnyFive(path: string): Promise<{ j5: five.Board; port: SerialPort }> {
  const port = new SerialPort({ path, baudRate: 57_600 });
  // A write after the emulated cable is pulled fails with EIO; the tests judge the link by what
  // the board and the pty show, and an 'error' without a listener would escape the test.
  port.on('error', () => undefined);
  const Firmata = bindFirmata.Firmata;
  const io = new Firmata(port);
  const j5 = new five.Board({ io, repl: false, debug: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('johnny-five did not become ready')), 10_000);
    j5.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { j5, port };
}

/** Resolves when `check` holds, polling; rejects with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
