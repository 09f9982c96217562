/**
 * Every fault kind, injected through the control interface or the scenario timeline, observed
 * from the client side: raw sockets and the pty show the exact bytes, modbus-serial shows what
 * a real master makes of them.
 */
import { expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/index.js';
import {
  bus,
  crcOk,
  failure,
  ptyClient,
  rawPty,
  rawTcp,
  rtu,
  rtuTcpClient,
  sim,
  tcpClient,
  useCleanup,
} from './helpers.js';
import { requireTool } from '../../helpers/tools.js';

const socat = requireTool('socat');

useCleanup();

const READ = '01 03 000C 0002';
const GOOD = rtu('01 03 04 420E 0000');

const scenario = {
  seed: 7,
  buses: [
    { name: 'net', kind: 'tcp' },
    { name: 'dtu', kind: 'rtu-tcp' },
    { name: 'line', kind: 'pty' },
  ],
  devices: [
    { id: 'net-uv', profile: 'fixture.cems-uv', unit: 1, bus: 'net' },
    { id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'dtu' },
    { id: 'dust', profile: 'fixture.dust-cpm', unit: 2, bus: 'dtu' },
    { id: 'line-uv', profile: 'fixture.cems-uv', unit: 1, bus: 'line' },
    { id: 'box', profile: 'fixture.weather-box', unit: 3, bus: 'line', coldStart: false },
  ],
};

async function dtu() {
  const s = await sim(scenario);
  return { s, link: await rawTcp(bus(s, 'dtu').port!) };
}

socat.describe('fault injection seen from the client', () => {
  it('no answer: the master times out until the fault is cleared', async () => {
    const s = await sim(scenario);
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 300);
    const f = s.control.inject({ kind: 'no-answer', device: 'uv' });
    expect((await failure(() => c.readHoldingRegisters(12, 2))).errno).toBe('ETIMEDOUT');
    s.control.clear(f.id);
    expect((await c.readHoldingRegisters(12, 2)).buffer.readFloatBE(0)).toBe(35.5);
    expect(s.stats('dtu').silent).toBe(1);
  });

  it('late answer: the reply comes the given delay later than the model says', async () => {
    const { s, link } = await dtu();
    link.send(rtu(READ));
    const t0 = performance.now();
    expect(await link.receive(9, 1000)).toEqual(GOOD);
    const normal = performance.now() - t0;
    s.control.inject({ kind: 'late-answer', device: 'uv', delayMs: 300, count: 1 });
    const t1 = performance.now();
    link.send(rtu(READ));
    expect(await link.receive(9, 2000)).toEqual(GOOD);
    expect(performance.now() - t1).toBeGreaterThan(normal + 280);
  });

  it('CRC error: the reply has the right length but its CRC does not match', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'crc-error', device: 'uv', count: 1 });
    link.send(rtu(READ));
    const reply = await link.receive(9, 1000);
    expect(reply.length).toBe(9);
    expect(reply.subarray(0, 7)).toEqual(GOOD.subarray(0, 7));
    expect(crcOk(reply)).toBe(false);
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 500);
    s.control.inject({ kind: 'crc-error', device: 'uv', count: 1 });
    expect((await failure(() => c.readHoldingRegisters(12, 2))).message).toMatch(/CRC/);
  });

  it('wrong unit id: a well-formed reply from another address', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'wrong-unit-id', device: 'uv', unitId: 9, count: 1 });
    link.send(rtu(READ));
    expect(await link.receive(9, 1000)).toEqual(rtu('09 03 04 420E 0000'));
    const net = await tcpClient(bus(s, 'net').port!, 1);
    s.control.inject({ kind: 'wrong-unit-id', device: 'net-uv', count: 1 });
    expect((await failure(() => net.readHoldingRegisters(12, 2))).message).toMatch(
      /expected address 1 got 2/,
    );
  });

  it('exception code: the device answers the given exception', async () => {
    const { s } = await dtu();
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1);
    s.control.inject({ kind: 'exception', device: 'uv', exceptionCode: 6, count: 1 });
    expect((await failure(() => c.readHoldingRegisters(12, 2))).modbusCode).toBe(6);
    expect((await c.readHoldingRegisters(12, 2)).data).toEqual([0x420e, 0]);
  });

  it('truncated frame: only the first bytes of the reply arrive; over Modbus TCP the PDU is short', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'truncated', device: 'uv', keepBytes: 5, count: 1 });
    link.send(rtu(READ));
    expect(await link.receive(9, 300)).toEqual(GOOD.subarray(0, 5));
    const net = await tcpClient(bus(s, 'net').port!, 1);
    s.control.inject({ kind: 'truncated', device: 'net-uv', count: 1 });
    expect((await failure(() => net.readHoldingRegisters(12, 2))).message).toMatch(/Data length error/);
  });

  it('garbage: noise before the reply, or noise instead of it', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'garbage', device: 'uv', garbageBytes: 6, count: 1 });
    link.send(rtu(READ));
    const noisy = await link.receive(15, 1000);
    expect(noisy.length).toBe(15);
    expect(noisy.subarray(6)).toEqual(GOOD);
    expect(crcOk(noisy)).toBe(false);
    s.control.inject({ kind: 'garbage', device: 'uv', garbageBytes: 4, garbageMode: 'replace', count: 1 });
    link.send(rtu(READ));
    const noise = await link.receive(9, 300);
    expect(noise.length).toBe(4);
    expect(noise.equals(GOOD.subarray(0, 4))).toBe(false);
  });

  it('connection drop: the serial server closes the connection; a new one works', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'drop', device: 'uv', count: 1 });
    link.send(rtu(READ));
    await link.receive(9, 500);
    expect(link.closed()).toBe(true);
    const again = await rawTcp(bus(s, 'dtu').port!);
    again.send(rtu(READ));
    expect(await again.receive(9, 1000)).toEqual(GOOD);
    expect(s.stats('dtu').drops).toBe(1);
  });

  it('connection drop on a whole bus closes every open connection at once', async () => {
    const s = await sim(scenario);
    const a = await rawTcp(bus(s, 'net').port!);
    const b = await rawTcp(bus(s, 'net').port!);
    s.control.inject({ kind: 'drop', bus: 'net', count: 1 });
    await Promise.all([a.receive(1, 500), b.receive(1, 500)]);
    expect(a.closed() && b.closed()).toBe(true);
  });

  it('connection drop on a pty: the line hangs up and comes back at the same path', async () => {
    const s = await sim(scenario);
    const path = bus(s, 'line').path!;
    const line = await rawPty(path);
    const closed = new Promise<void>((r) => line.port.once('close', () => r()));
    s.control.inject({ kind: 'drop', bus: 'line', offMs: 300, count: 1 });
    // As with an unplugged USB adapter, the port notices at its next write.
    await new Promise((r) => setTimeout(r, 100));
    line.send(rtu(READ));
    await closed;
    let c: Awaited<ReturnType<typeof ptyClient>> | undefined;
    const until = Date.now() + 5000;
    while (!c && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      c = await ptyClient(path, 1).catch(() => undefined);
    }
    expect((await c!.readHoldingRegisters(12, 2)).data).toEqual([0x420e, 0]);
  });

  it('power cycle: silent while off and while booting, then answers again', async () => {
    const s = await sim(scenario);
    const c = await ptyClient(bus(s, 'line').path!, 3, 250);
    expect((await c.readHoldingRegisters(507, 1)).data).toEqual([35]);
    const t0 = Date.now();
    s.control.powerCycle('box', 300);
    expect(s.control.devices().find((d) => d.id === 'box')?.power).toBe('off');
    expect((await failure(() => c.readHoldingRegisters(507, 1))).errno).toBe('ETIMEDOUT');
    let answeredAt: number | undefined;
    while (answeredAt === undefined && Date.now() - t0 < 6000) {
      await c.readHoldingRegisters(507, 1).then(
        () => (answeredAt = Date.now()),
        () => undefined,
      );
    }
    // Off for 300 ms, then the profile's 1500 ms boot delay.
    expect(answeredAt! - t0).toBeGreaterThanOrEqual(1800);
  });

  it('a fault on a bus hits every device on it; a count ends the fault', async () => {
    const { s, link } = await dtu();
    s.control.inject({ kind: 'exception', bus: 'dtu', exceptionCode: 4, count: 2 });
    link.send(rtu(READ));
    expect(await link.receive(5, 1000)).toEqual(rtu('01 83 04'));
    link.send(rtu('02 03 0000 0002'));
    expect(await link.receive(5, 1000)).toEqual(rtu('02 83 04'));
    link.send(rtu(READ));
    expect(await link.receive(9, 1000)).toEqual(GOOD);
    expect(s.control.faults()).toEqual([]);
  });

  it('a fault with a probability hits some transactions and not others, the same way every run', async () => {
    const hits = async () => {
      const { s, link } = await dtu();
      s.control.inject({ kind: 'exception', device: 'uv', probability: 0.5 });
      const out: boolean[] = [];
      for (let i = 0; i < 12; i++) {
        link.send(rtu(READ));
        out.push((await link.receive(5, 1000))[1] === 0x83);
        await link.receive(4, 60);
      }
      await s.stop();
      return out;
    };
    const first = await hits();
    expect(first.some(Boolean) && !first.every(Boolean)).toBe(true);
    expect(await hits()).toEqual(first);
  });

  it('runs the fault timeline of the scenario', async () => {
    const s = await sim({
      ...scenario,
      faults: [{ at: '+400ms', for: '600ms', device: 'uv', kind: 'no-answer' }],
    });
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 200);
    await c.readHoldingRegisters(12, 2);
    await new Promise((r) => setTimeout(r, 450));
    expect((await failure(() => c.readHoldingRegisters(12, 2))).errno).toBe('ETIMEDOUT');
    await new Promise((r) => setTimeout(r, 700));
    expect((await c.readHoldingRegisters(12, 2)).data).toEqual([0x420e, 0]);
  });

  it('refuses faults that name no target, an unknown device or a kind the transport cannot show', async () => {
    const s = await sim(scenario);
    const bad = [
      { kind: 'no-answer' },
      { kind: 'no-answer', device: 'nope' },
      { kind: 'crc-error', device: 'net-uv' },
      { kind: 'melt', device: 'uv' },
      { kind: 'exception', device: 'uv', exceptionCode: 0 },
    ];
    for (const spec of bad) {
      let err: unknown;
      try {
        s.control.inject(spec);
      } catch (e) {
        err = e;
      }
      expect(isLantianError(err, 'SIM_CONTROL_INVALID'), JSON.stringify(spec)).toBe(true);
    }
  });
});
