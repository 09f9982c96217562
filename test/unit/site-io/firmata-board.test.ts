/**
 * The emulated board's answers, byte for byte, against the Firmata protocol document
 * (firmata/protocol, protocol.md), without any host library.
 */
import { describe, expect, it } from 'vitest';
import { FirmataBoard } from '../../../hardware-sim/src/firmata/board.js';

async function booted(): Promise<{ board: FirmataBoard; out: number[] }> {
  const board = new FirmataBoard({ bootMs: 1 });
  const out: number[] = [];
  const ready = new Promise<void>((r) => board.once('ready', () => r()));
  board.attach((b) => out.push(...b));
  await ready;
  return { board, out };
}

describe('emulated StandardFirmata board', () => {
  it('announces protocol version 2.5 and its firmware name when the line opens', async () => {
    const { board, out } = await booted();
    board.detach();
    const name = [...'StandardFirmata'].flatMap((c) => [c.charCodeAt(0), 0]);
    expect(out).toEqual([0xf9, 2, 5, 0xf0, 0x79, 2, 5, ...name, 0xf7]);
  });

  it('answers the analog mapping query with channels 0-5 on pins 14-19 and 127 elsewhere', async () => {
    const { board, out } = await booted();
    out.length = 0;
    board.receive(Buffer.from([0xf0, 0x69, 0xf7]));
    board.detach();
    expect(out).toEqual([0xf0, 0x6a, ...new Array(14).fill(127), 0, 1, 2, 3, 4, 5, 0xf7]);
  });

  it('lists no modes for the serial pins and INPUT, OUTPUT, PULLUP (+ANALOG 10 bit, +PWM 8 bit) for the rest', async () => {
    const { board, out } = await booted();
    out.length = 0;
    board.receive(Buffer.from([0xf0, 0x6b, 0xf7]));
    board.detach();
    expect(out.slice(0, 2)).toEqual([0xf0, 0x6c]);
    expect(out.at(-1)).toBe(0xf7);
    const pins: number[][] = [];
    let cur: number[] = [];
    for (const b of out.slice(2, -1)) {
      if (b === 0x7f) {
        pins.push(cur);
        cur = [];
      } else cur.push(b);
    }
    expect(pins).toHaveLength(20);
    expect(pins[0]).toEqual([]);
    expect(pins[2]).toEqual([0, 1, 1, 1, 0x0b, 1]);
    expect(pins[3]).toEqual([0, 1, 1, 1, 0x0b, 1, 3, 8]);
    expect(pins[14]).toEqual([0, 1, 1, 1, 0x0b, 1, 2, 10]);
  });

  it('reports a pin state: OUTPUT pins their level, INPUT pins whether the pull-up is on', async () => {
    const { board, out } = await booted();
    board.receive(Buffer.from([0xf4, 7, 1, 0xf5, 7, 1, 0xf4, 4, 0x0b]));
    out.length = 0;
    board.receive(Buffer.from([0xf0, 0x6d, 7, 0xf7, 0xf0, 0x6d, 4, 0xf7]));
    board.detach();
    expect(out).toEqual([0xf0, 0x6e, 7, 1, 1, 0, 0xf7, 0xf0, 0x6e, 4, 0x0b, 1, 0, 0xf7]);
  });

  it('reports an analog channel as soon as reporting is enabled, 14 bits in two 7-bit bytes', async () => {
    const { board, out } = await booted();
    board.setAnalog('A3', 1000);
    out.length = 0;
    board.receive(Buffer.from([0xc3, 1]));
    board.detach();
    expect(out).toEqual([0xe3, 1000 & 0x7f, 1000 >> 7]);
  });

  it('a digital port message drives only the OUTPUT pins of that port', async () => {
    const { board } = await booted();
    board.receive(Buffer.from([0xf4, 8, 1, 0xf4, 9, 0]));
    board.receive(Buffer.from([0x91, 0b11, 0]));
    expect(board.level(8)).toBe(1);
    expect(board.mode(9)).toBe(0);
    board.detach();
  });

  it('ignores bytes while it boots, as the bootloader holds the line', async () => {
    const board = new FirmataBoard({ bootMs: 50 });
    const out: number[] = [];
    board.attach((b) => out.push(...b));
    board.receive(Buffer.from([0xf0, 0x69, 0xf7]));
    await new Promise<void>((r) => board.once('ready', () => r()));
    board.detach();
    expect(out.includes(0x6a)).toBe(false);
  });
});
