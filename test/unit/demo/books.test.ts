/**
 * The demo's books: served values settled by delivered readings of the same words, and what
 * is left at the end explained (logged, cut short, read again) or counted lost.
 */
import { describe, expect, it } from 'vitest';
import { Books, POLL_SPAN_MS, TOLERANCE_MS, type Delivered } from '../../../demo/books.js';

const T = 1_700_000_000_000;
const served = (point: string, word: number, at: number) => ({ device: 'gas', point, words: [word, 0], at });
const reading = (point: string, word: number, ts: number): Delivered => ({
  device: 'gas',
  point,
  ts,
  raw: [word, 0],
  value: word,
  flag: 'N',
});

function books() {
  return new Books((_device, point) => point !== 'serial_no');
}

describe('the demo books', () => {
  it('settles each served value with the delivered reading of the same words, in any order', () => {
    const b = books();
    for (let i = 0; i < 5; i++) b.serve(served('so2', 100 + i, T + i * 2000));
    b.serve(served('serial_no', 1, T)); // a point the gateway does not deliver: not counted
    // Replayed after an outage: the later ones first.
    for (const i of [3, 4, 0, 1, 2]) b.deliver(reading('so2', 100 + i, T + i * 2000 + 15));
    const [gas] = b.close({ loggedNotSent: [], stopAt: T + 60_000 });
    expect(gas).toMatchObject({ served: 5, delivered: 5, lost: 0, unexplained: 0 });
  });

  it('settles equal words in order, and never with a value served far from the reading time', () => {
    const b = books();
    b.serve(served('temp', 7, T));
    b.serve(served('temp', 7, T + 2000));
    b.deliver(reading('temp', 7, T + 2000 + TOLERANCE_MS + 1_000_000)); // from nowhere near
    b.deliver(reading('temp', 7, T + 2010));
    b.deliver(reading('temp', 7, T + 10));
    const [gas] = b.close({ loggedNotSent: [], stopAt: T + 60_000 });
    expect(gas).toMatchObject({ served: 2, delivered: 2, unexplained: 1, lost: 0 });
    expect(b.unexplained()).toHaveLength(1);
  });

  it('counts a reading with words no device served, or without its words, as unexplained', () => {
    const b = books();
    b.serve(served('so2', 1, T));
    b.deliver(reading('so2', 2, T));
    b.deliver({ ...reading('so2', 1, T), raw: undefined });
    const [gas] = b.close({ loggedNotSent: [], stopAt: T + 60_000 });
    expect(gas).toMatchObject({ served: 1, delivered: 0, unexplained: 2, lost: 1 });
  });

  it('explains what is left: logged and not sent, cut short by the stop, read again; the rest is lost', () => {
    const b = books();
    const stopAt = T + 100_000;
    b.serve(served('so2', 1, T)); // lost: nothing explains it
    b.serve(served('so2', 2, T + 20_000)); // too late for the gateway: read again at once
    b.serve(served('so2', 3, T + 21_000));
    b.serve(served('so2', 4, T + 40_000)); // logged, not sent
    b.serve(served('so2', 5, stopAt - POLL_SPAN_MS / 2)); // the poll the stop cut short
    b.deliver(reading('so2', 3, T + 21_005));
    const [gas] = b.close({ loggedNotSent: [reading('so2', 4, T + 40_010)], stopAt });
    expect(gas).toMatchObject({
      served: 5,
      delivered: 1,
      readAgain: 1,
      loggedNotSent: 1,
      cutShort: 1,
      lost: 1,
    });
  });

  it('keeps B readings apart: they carry no value, so nothing was served for them', () => {
    const b = books();
    b.deliver({ device: 'gas', point: 'so2', ts: T, value: null, flag: 'B' });
    b.answered(new Map([['gas', 3]]));
    expect(b.snapshot()).toEqual([
      expect.objectContaining({ device: 'gas', answered: 3, flaggedB: 1, served: 0, unexplained: 0 }),
    ]);
  });
});
