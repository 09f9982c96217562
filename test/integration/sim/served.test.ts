/**
 * The devices' side of the books: every sound reply a simulated device sends is counted, and
 * every point value it carried is told with its words, so a witness can hold what reached the
 * platform against what the devices served. Damaged replies serve nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ServedValue } from '../../../hardware-sim/src/index.js';
import { bus, rawTcp, rtuTcpClient, sim, tcpClient, useCleanup } from './helpers.js';

useCleanup();

const scenario = {
  seed: 7,
  buses: [
    { name: 'net', kind: 'tcp' },
    { name: 'dtu', kind: 'rtu-tcp' },
  ],
  devices: [
    { id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'net' },
    { id: 'uv-dtu', profile: 'fixture.cems-uv', unit: 1, bus: 'dtu' },
  ],
};

describe('what the simulated devices served', () => {
  it('counts each sound reply and tells each point value it carried whole, with its words', async () => {
    const s = await sim(scenario);
    const told: ServedValue[] = [];
    s.control.onServed((v) => told.push(v));
    const c = await tcpClient(bus(s, 'net').port!, 1);
    const before = Date.now();
    // Registers 11..16: maintenance (11), so2 (12-13), no (14-15) whole; o2 (16-17) cut in half.
    const r = await c.readHoldingRegisters(11, 6);
    await c.readDiscreteInputs(0, 1);
    expect(told.map((v) => v.point)).toEqual(['maintenance', 'so2', 'no', 'alarm']);
    expect(told[1]!.words).toEqual(r.data.slice(1, 3));
    expect(told[2]!.words).toEqual(r.data.slice(3, 5));
    expect(told[3]!.words).toEqual([0]);
    for (const v of told) {
      expect(v.device).toBe('uv');
      expect(v.at).toBeGreaterThanOrEqual(before);
      expect(v.at).toBeLessThanOrEqual(Date.now());
    }
    expect(s.control.served().find((d) => d.device === 'uv')).toEqual({
      device: 'uv',
      answered: 2,
      values: 4,
      byPoint: { maintenance: 1, so2: 1, no: 1, alarm: 1 },
    });
  });

  it('answers Modbus TCP requests sent before the last answer in turn, each with its transaction id', async () => {
    const s = await sim(scenario);
    const link = await rawTcp(bus(s, 'net').port!);
    // Four reads of so2 (registers 12-13) and one of the alarm input, all in one segment.
    const request = (tid: number, fn: number, address: number, count: number) => {
      const b = Buffer.alloc(12);
      b.writeUInt16BE(tid, 0);
      b.writeUInt16BE(6, 4);
      b[6] = 1;
      b[7] = fn;
      b.writeUInt16BE(address, 8);
      b.writeUInt16BE(count, 10);
      return b;
    };
    const tids = [7, 8, 9, 10, 11];
    link.send(Buffer.concat([...tids.slice(0, 4).map((t) => request(t, 3, 12, 2)), request(11, 2, 0, 1)]));
    // 4 × (7 + 6) bytes of registers and 7 + 3 of the discrete input.
    const got = await link.receive(4 * 13 + 10, 2000);
    const replies: { tid: number; fn: number }[] = [];
    for (let at = 0; at + 6 <= got.length; at += 6 + got.readUInt16BE(at + 4))
      replies.push({ tid: got.readUInt16BE(at), fn: got[at + 7]! });
    expect(replies).toEqual([...tids.slice(0, 4).map((tid) => ({ tid, fn: 3 })), { tid: 11, fn: 2 }]);
    expect(s.control.served().find((d) => d.device === 'uv')?.answered).toBe(5);
  });

  it('serves nothing in a damaged reply, and nothing but the answer in an exception', async () => {
    const s = await sim(scenario);
    const told: ServedValue[] = [];
    s.control.onServed((v) => told.push(v));
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 400);
    s.control.inject({ kind: 'crc-error', device: 'uv-dtu', count: 1 });
    await expect(c.readHoldingRegisters(12, 2)).rejects.toThrow();
    s.control.inject({ kind: 'exception', device: 'uv-dtu', exceptionCode: 4, count: 1 });
    await expect(c.readHoldingRegisters(12, 2)).rejects.toThrow();
    const ok = await c.readHoldingRegisters(12, 2);
    expect(told.map((v) => [v.point, v.words])).toEqual([['so2', ok.data]]);
    expect(s.control.served().find((d) => d.device === 'uv-dtu')).toMatchObject({ answered: 2, values: 1 });
  });
});
