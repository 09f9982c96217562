/**
 * The emulated Firmata board is good enough for johnny-five 2.1 unmodified: it becomes ready,
 * reads analog values, drives relays, sees contacts and changes the sampling interval. Faults
 * look to johnny-five as they do on a real board (johnny-five.md rows 6-8).
 */
import { existsSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import five from 'johnny-five';
import type { SerialPort } from 'serialport';
import { requireTool } from '../../helpers/tools.js';
import { emulatedBoard, johnnyFive, until, type EmulatedBoard } from './helpers.js';

const socat = requireTool('socat');

let emu: EmulatedBoard | undefined;
let port: SerialPort | undefined;
afterEach(async () => {
  if (port?.isOpen) await new Promise((r) => port!.close(r));
  await emu?.close();
  emu = port = undefined;
});

socat.it(
  'johnny-five becomes ready on the emulated board without waiting for its version timeout',
  async () => {
    emu = await emulatedBoard();
    const started = Date.now();
    const c = await johnnyFive(emu.path);
    port = c.port;
    expect(Date.now() - started).toBeLessThan(4000); // johnny-five queries by itself only after 5 s
    expect(c.j5.io.firmware.name).toBe('StandardFirmata');
    expect(c.j5.io.analogPins).toEqual([14, 15, 16, 17, 18, 19]);
    expect(c.j5.io.pins[3]!.supportedModes).toContain(c.j5.io.MODES.PWM);
    expect(c.j5.io.pins[0]!.supportedModes).toEqual([]);
    expect(emu.board.received.get('capability')).toBe(1);
    expect(emu.board.received.get('analog-mapping')).toBe(1);
  },
);

socat.it('a Sensor reads the scripted analog value and follows it when it changes', async () => {
  emu = await emulatedBoard();
  emu.board.setAnalog('A0', 200);
  const c = await johnnyFive(emu.path);
  port = c.port;
  const sensor = new five.Sensor({ pin: 'A0', board: c.j5, freq: 25 });
  await until(() => sensor.value === 200, 'A0 = 200');
  emu.board.setAnalog('A0', 820);
  await until(() => sensor.value === 820, 'A0 = 820');
});

socat.it(
  'a Relay closes and opens the emulated output, and a pulled-up contact reports both ways',
  async () => {
    emu = await emulatedBoard();
    const c = await johnnyFive(emu.path);
    port = c.port;
    c.j5.pinMode(7, c.j5.io.MODES.OUTPUT);
    const relay = new five.Relay({ pin: 7, board: c.j5 });
    relay.close();
    await until(() => emu!.board.level(7) === 1, 'pin 7 high');
    relay.open();
    await until(() => emu!.board.level(7) === 0, 'pin 7 low');

    const seen: number[] = [];
    c.j5.pinMode(10, c.j5.io.MODES.PULLUP);
    c.j5.io.on('digital-read-10', (v: number) => seen.push(v));
    (c.j5.io as unknown as { reportDigitalPin(pin: number, on: number): void }).reportDigitalPin(10, 1);
    await until(() => seen.at(-1) === 1, 'open contact reads high');
    emu.board.setContact(10, true);
    await until(() => seen.at(-1) === 0, 'closed contact reads low');
    emu.board.setContact(10, false);
    await until(() => seen.at(-1) === 1, 'reopened contact reads high');
  },
);

socat.it('the sampling interval johnny-five sets is the one the board reports at', async () => {
  emu = await emulatedBoard();
  const c = await johnnyFive(emu.path);
  port = c.port;
  c.j5.samplingInterval(200);
  await until(() => emu!.board.samplingIntervalMs === 200, 'interval 200 ms');
  const times: number[] = [];
  c.j5.io.analogRead(0, () => times.push(Date.now()));
  await until(() => times.length >= 7, 'seven reports', 8000);
  // The mean gap: one late read of the pty can put two reports close together (the default
  // interval, 19 ms, would give a mean far below this).
  const reports = times.slice(1);
  expect((reports.at(-1)! - reports[0]!) / (reports.length - 1)).toBeGreaterThanOrEqual(150);
});

socat.it(
  'a board reset re-announces the version, drops outputs and stops reporting, as a real board does',
  async () => {
    emu = await emulatedBoard();
    const c = await johnnyFive(emu.path);
    port = c.port;
    c.j5.pinMode(7, c.j5.io.MODES.OUTPUT);
    new five.Relay({ pin: 7, board: c.j5 }).close();
    await until(() => emu!.board.level(7) === 1, 'pin 7 high');
    let analog = 0;
    c.j5.io.analogRead(1, () => analog++);
    await until(() => analog > 2, 'A1 reporting');
    const versions = new Promise<void>((r) => c.j5.io.once('reportversion', () => r()));
    emu.board.reset();
    await versions;
    expect(emu.board.level(7)).toBe(0);
    const after = analog;
    await new Promise((r) => setTimeout(r, 300));
    expect(analog).toBe(after);
  },
);

socat.it(
  'stale inputs: the board stays on the line but its analog reports stop until the fault clears',
  async () => {
    emu = await emulatedBoard();
    const c = await johnnyFive(emu.path);
    port = c.port;
    let analog = 0;
    c.j5.io.analogRead(2, () => analog++);
    await until(() => analog > 2, 'A2 reporting');
    emu.board.setStale(true);
    await new Promise((r) => setTimeout(r, 100));
    const frozen = analog;
    await new Promise((r) => setTimeout(r, 300));
    expect(analog).toBe(frozen);
    emu.board.setStale(false);
    await until(() => analog > frozen, 'reports again');
  },
);

// A pty whose far end goes away does not close the host's port (johnny-five.md row 6 on a
// real cable is no better): the host must notice the silence itself.
socat.it('a link drop cuts the board off the line and the pty comes back for a new open', async () => {
  emu = await emulatedBoard();
  const c = await johnnyFive(emu.path);
  port = c.port;
  await emu.link.drop(200);
  expect(emu.board.attached).toBe(false);
  expect(existsSync(emu.path)).toBe(false);
  // The host's port may have closed by itself already (a read error on the vanished pty): a
  // close without a callback would then throw "Port is not open" out of the test.
  c.port.close(() => undefined);
  await until(() => existsSync(emu!.path), 'the pty back');
  const again = await johnnyFive(emu.path);
  port = again.port;
  expect(emu.link.opens).toBe(2);
});
