/**
 * UART particulate sensors on a pty. Frames are checked here from the datasheets, without the
 * simulator's encoder: PMS5003 32-byte frames (sum of all bytes before the checksum) and SDS011
 * 10-byte frames (low byte of the sum of the six data bytes).
 */
import { expect, it } from 'vitest';
import { bus, rawPty, sim, useCleanup, type RawLink } from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

const socat = requireTool('socat');

useCleanup();

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Plantower PMS5003 datasheet: 0x42 0x4D, frame length 2*13+2, 13 u16 data, check code = sum of bytes. */
function decodePms(frame: Buffer) {
  expect(frame[0]).toBe(0x42);
  expect(frame[1]).toBe(0x4d);
  const length = frame.readUInt16BE(2);
  expect(length).toBe(28);
  let sum = 0;
  for (let i = 0; i < 30; i++) sum += frame[i]!;
  const data = Array.from({ length: 13 }, (_, i) => frame.readUInt16BE(4 + 2 * i));
  return { data, checksumOk: (sum & 0xffff) === frame.readUInt16BE(30) };
}

/** A PMS5003 command: 42 4D CMD DATAH DATAL LRCH LRCL, LRC = sum of the first five bytes. */
function pmsCommand(cmd: number, data: number): Buffer {
  const b = [0x42, 0x4d, cmd, data >> 8, data & 0xff];
  const sum = b.reduce((a, x) => a + x, 0);
  return Buffer.from([...b, sum >> 8, sum & 0xff]);
}

/** Nova SDS011 protocol V1.3: AA C0 PM25L PM25H PM10L PM10H ID1 ID2 CHK AB, CHK = low byte of the data sum. */
function decodeSds(frame: Buffer) {
  expect(frame.length).toBe(10);
  expect(frame[0]).toBe(0xaa);
  expect(frame[9]).toBe(0xab);
  let sum = 0;
  for (let i = 2; i <= 7; i++) sum += frame[i]!;
  return {
    kind: frame[1],
    pm25: (frame[3]! * 256 + frame[2]!) / 10,
    pm10: (frame[5]! * 256 + frame[4]!) / 10,
    checksumOk: (sum & 0xff) === frame[8],
  };
}

/** An SDS011 command: AA B4 CMD DATA1..DATA12 FF FF CHK AB, CHK over bytes 2..16. */
function sdsCommand(cmd: number, data: number[]): Buffer {
  const body = [cmd, ...data, ...new Array<number>(12 - data.length).fill(0), 0xff, 0xff];
  const chk = body.reduce((a, x) => a + x, 0) & 0xff;
  return Buffer.from([0xaa, 0xb4, ...body, chk, 0xab]);
}

async function frames(link: RawLink, size: number, count: number, ms: number): Promise<Buffer[]> {
  const got = await link.receive(size * count, ms);
  return Array.from({ length: Math.floor(got.length / size) }, (_, i) =>
    got.subarray(i * size, (i + 1) * size),
  );
}

const pms = (extra: Record<string, unknown> = {}) => ({
  buses: [{ name: 'pm', kind: 'pty' }],
  devices: [
    {
      id: 'pms',
      uart: 'pms5003',
      bus: 'pm',
      intervalMs: 150,
      points: { pm1_0: 20, pm2_5: { ramp: { from: 30, to: 90, period: '60s' } }, pm10: 61, n0_3: 4500 },
      ...extra,
    },
  ],
});

socat.describe('Plantower PMS5003 on a pty', () => {
  it('streams 32-byte frames in active mode whose datasheet checksum holds', async () => {
    const s = await sim(pms());
    const link = await rawPty(bus(s, 'pm').path!);
    const got = await frames(link, 32, 3, 2000);
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(s.stats('pm').bytesOut).toBeGreaterThanOrEqual(32 * 3);
    for (const f of got) {
      const { data, checksumOk } = decodePms(f);
      expect(checksumOk).toBe(true);
      expect(data[3]).toBe(20);
      expect(data[4]).toBeGreaterThanOrEqual(30);
      expect(data[4]).toBeLessThan(35);
      expect(data[5]).toBe(61);
      // CF=1 values follow the atmospheric ones unless driven themselves.
      expect(data.slice(0, 3)).toEqual(data.slice(3, 6));
      expect(data[6]).toBe(4500);
    }
  });

  it('switches to passive mode, answers a read request, sleeps and wakes', async () => {
    const s = await sim(pms());
    const link = await rawPty(bus(s, 'pm').path!);
    await link.receive(32, 1000);
    link.send(pmsCommand(0xe1, 0));
    // A frame already on its way may come first; the acknowledgement ends the stream.
    const tail = await link.receive(1000, 500);
    expect(tail.subarray(-8)).toEqual(hex('42 4D 00 04 E1 00 01 74'));
    // Passive: nothing more unless asked.
    expect((await link.receive(32, 400)).length).toBe(0);
    link.send(hex('42 4D E2 00 00 01 71'));
    const [answer] = await frames(link, 32, 1, 1000);
    expect(decodePms(answer!).checksumOk).toBe(true);
    link.send(pmsCommand(0xe4, 0));
    expect(await link.receive(8, 1000)).toEqual(hex('42 4D 00 04 E4 00 01 77'));
    link.send(hex('42 4D E2 00 00 01 71'));
    expect((await link.receive(32, 400)).length).toBe(0);
    link.send(pmsCommand(0xe4, 1));
    link.send(hex('42 4D E2 00 00 01 71'));
    expect(decodePms((await frames(link, 32, 1, 1000))[0]!).checksumOk).toBe(true);
    link.send(pmsCommand(0xe1, 1));
    await link.receive(8, 1000);
    expect((await frames(link, 32, 2, 1500)).length).toBe(2);
  });

  it('starts in passive mode when the scenario says so and ignores commands with a bad checksum', async () => {
    const s = await sim(pms({ mode: 'passive' }));
    const link = await rawPty(bus(s, 'pm').path!);
    expect((await link.receive(32, 400)).length).toBe(0);
    link.send(hex('42 4D E2 00 00 01 72'));
    expect((await link.receive(32, 400)).length).toBe(0);
    link.send(hex('00 42 4D E2 00 00 01 71'));
    expect(decodePms((await frames(link, 32, 1, 1000))[0]!).checksumOk).toBe(true);
  });

  it('sends frames with a wrong checksum while the fault is active', async () => {
    const s = await sim(pms());
    const link = await rawPty(bus(s, 'pm').path!);
    await link.receive(32, 1000);
    s.control.inject({ kind: 'checksum-error', device: 'pms', count: 2 });
    const got = (await frames(link, 32, 7, 3000)).map((f) => (decodePms(f).checksumOk ? 'ok' : 'bad'));
    // Frames already written to the pty when the fault came still pass (on a busy machine
    // there can be more than one); then exactly two are bad, and the stream is good again.
    expect(got).toHaveLength(7);
    expect(got.join(' ')).toMatch(/^(ok )*bad bad( ok)+$/);
  });

  it('holds a value set through the control interface', async () => {
    const s = await sim(pms());
    const link = await rawPty(bus(s, 'pm').path!);
    s.control.setPoint('pms', 'pm2_5', 250);
    await link.receive(32, 400);
    expect(decodePms((await frames(link, 32, 1, 1000))[0]!).data[4]).toBe(250);
  });
});

const sds = (mode = 'active') => ({
  buses: [{ name: 'pm', kind: 'pty' }],
  devices: [
    { id: 'sds', uart: 'sds011', bus: 'pm', mode, intervalMs: 150, points: { pm2_5: 12.3, pm10: 45.6 } },
  ],
});

socat.describe('Nova SDS011 on a pty', () => {
  it('streams 10-byte data frames whose checksum and values follow the protocol', async () => {
    const s = await sim(sds());
    const link = await rawPty(bus(s, 'pm').path!);
    const got = await frames(link, 10, 2, 2000);
    expect(got.length).toBe(2);
    for (const f of got)
      expect(decodeSds(f)).toEqual({ kind: 0xc0, pm25: 12.3, pm10: 45.6, checksumOk: true });
  });

  it('answers the query command in query mode and switches reporting mode on command', async () => {
    const s = await sim(sds('query'));
    const link = await rawPty(bus(s, 'pm').path!);
    expect((await link.receive(10, 400)).length).toBe(0);
    link.send(sdsCommand(0x04, []));
    expect(decodeSds((await frames(link, 10, 1, 1000))[0]!)).toMatchObject({ kind: 0xc0, checksumOk: true });
    link.send(sdsCommand(0x02, [1, 0]));
    const reply = (await frames(link, 10, 1, 1000))[0]!;
    expect(decodeSds(reply)).toMatchObject({ kind: 0xc5, checksumOk: true });
    expect([...reply.subarray(2, 5)]).toEqual([0x02, 0x01, 0x00]);
    expect((await frames(link, 10, 2, 1500)).map((f) => f[1])).toEqual([0xc0, 0xc0]);
  });

  it('sends a data frame with a wrong checksum under the checksum-error fault', async () => {
    const s = await sim(sds('query'));
    const link = await rawPty(bus(s, 'pm').path!);
    s.control.inject({ kind: 'checksum-error', device: 'sds', count: 1 });
    link.send(sdsCommand(0x04, []));
    expect(decodeSds((await frames(link, 10, 1, 1000))[0]!).checksumOk).toBe(false);
    link.send(sdsCommand(0x04, []));
    expect(decodeSds((await frames(link, 10, 1, 1000))[0]!).checksumOk).toBe(true);
  });
});
