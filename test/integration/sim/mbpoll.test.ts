/**
 * An independent Modbus master, Debian's mbpoll (libmodbus), reads the simulator over Modbus
 * TCP and over RTU on a pty at 9600 baud: holding registers, float32 values and the exception
 * codes for bad requests.
 */
import { expect, it } from 'vitest';
import { bus, mbpollRtu, mbpollTcp, sim, useCleanup } from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

useCleanup();

const scenario = {
  buses: [
    { name: 'net', kind: 'tcp' },
    { name: 'line', kind: 'pty', line: { baud: 9600 } },
  ],
  devices: [
    { id: 'uv-tcp', profile: 'fixture.cems-uv', unit: 1, bus: 'net' },
    { id: 'box-tcp', profile: 'fixture.weather-box', unit: 2, bus: 'net', coldStart: false },
    { id: 'uv-rtu', profile: 'fixture.cems-uv', unit: 1, bus: 'line' },
    { id: 'box-rtu', profile: 'fixture.weather-box', unit: 3, bus: 'line', coldStart: false },
  ],
};

requireTool('mbpoll').describe('mbpoll against the simulator over Modbus TCP', () => {
  it('reads holding registers and big-endian float32 values', async () => {
    const s = await sim(scenario);
    const port = bus(s, 'net').port!;
    const words = await mbpollTcp(port, ['-a', '2', '-r', '500', '-c', '6']);
    expect(words.code, words.out).toBe(0);
    expect([...words.values.values()]).toEqual([23, 2, 0, 270, 655, 0xffec]);
    const floats = await mbpollTcp(port, ['-a', '1', '-r', '12', '-c', '4', '-t', '4:float', '-B']);
    expect(floats.code, floats.out).toBe(0);
    expect(Object.fromEntries(floats.values)).toEqual({ 12: 35.5, 14: 12.25, 16: 20.9, 18: 8.5 });
  });

  it('gets exception 01 for a function the device lacks, 02 outside the map, 03 above its largest read', async () => {
    const s = await sim(scenario);
    const port = bus(s, 'net').port!;
    expect((await mbpollTcp(port, ['-a', '2', '-r', '0', '-c', '1', '-t', '3'])).failure).toBe(1);
    expect((await mbpollTcp(port, ['-a', '1', '-r', '60000', '-c', '2'])).failure).toBe(2);
    expect((await mbpollTcp(port, ['-a', '2', '-r', '500', '-c', '9'])).failure).toBe(3);
  });
});

requireTool('mbpoll', 'socat').describe('mbpoll against the simulator over RTU on a pty at 9600 8N1', () => {
  it('reads holding registers and float32 values, one device after another on the same line', async () => {
    const s = await sim(scenario);
    const path = bus(s, 'line').path!;
    const floats = await mbpollRtu(path, ['-a', '1', '-r', '12', '-c', '2', '-t', '4:float', '-B']);
    expect(floats.code, floats.out).toBe(0);
    expect(Object.fromEntries(floats.values)).toEqual({ 12: 35.5, 14: 12.25 });
    // mbpoll's default word order is low word first: the CDAB point reads correctly without -B.
    const cdab = await mbpollRtu(path, ['-a', '1', '-r', '20', '-c', '1', '-t', '4:float']);
    expect(Object.fromEntries(cdab.values)).toEqual({ 20: 40.125 });
    const words = await mbpollRtu(path, ['-a', '3', '-r', '504', '-c', '2']);
    expect([...words.values.values()]).toEqual([655, 0xffec]);
  });

  it('gets exception 01, 02 and 03 for bad requests', async () => {
    const s = await sim(scenario);
    const path = bus(s, 'line').path!;
    expect((await mbpollRtu(path, ['-a', '3', '-r', '0', '-c', '1', '-t', '3'])).failure).toBe(1);
    expect((await mbpollRtu(path, ['-a', '1', '-r', '0', '-c', '5'])).failure).toBe(2);
    expect((await mbpollRtu(path, ['-a', '3', '-r', '500', '-c', '9'])).failure).toBe(3);
    expect(s.stats('line').exceptions).toBe(3);
  });

  it('times out on a unit id nobody answers', async () => {
    const s = await sim(scenario);
    const r = await mbpollRtu(bus(s, 'line').path!, ['-a', '9', '-r', '500', '-c', '1', '-o', '0.3']);
    expect(r.failure).toBe('timeout');
    expect(s.stats('line').silent).toBeGreaterThan(0);
  });
});
