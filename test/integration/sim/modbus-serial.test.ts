/**
 * modbus-serial, a second independent master, against all three ways into the simulator:
 * Modbus TCP, RTU over TCP (as a serial device server) and RTU on a pty.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bus,
  failure,
  onCleanup,
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

const scenario = {
  buses: [
    { name: 'net', kind: 'tcp' },
    { name: 'dtu', kind: 'rtu-tcp' },
    { name: 'line', kind: 'pty' },
  ],
  devices: [
    { id: 'uv-net', profile: 'fixture.cems-uv', unit: 1, bus: 'net' },
    { id: 'uv-dtu', profile: 'fixture.cems-uv', unit: 1, bus: 'dtu' },
    { id: 'box-dtu', profile: 'fixture.weather-box', unit: 4, bus: 'dtu', coldStart: false },
    { id: 'uv-line', profile: 'fixture.cems-uv', unit: 7, bus: 'line' },
  ],
};

async function clients() {
  const s = await sim(scenario);
  return {
    s,
    net: await tcpClient(bus(s, 'net').port!, 1),
    dtu: await rtuTcpClient(bus(s, 'dtu').port!, 1),
    line: await ptyClient(bus(s, 'line').path!, 7),
  };
}

describe('modbus-serial against the simulator', () => {
  socat.it('reads the same float32 words over Modbus TCP, RTU over TCP and RTU on a pty', async () => {
    const { net, dtu, line } = await clients();
    for (const c of [net, dtu, line]) {
      const r = await c.readHoldingRegisters(12, 4);
      expect(r.buffer.readFloatBE(0)).toBe(35.5);
      expect(r.buffer.readFloatBE(4)).toBe(12.25);
      const input = await c.readInputRegisters(0, 3);
      expect(input.data).toEqual([1520, 0xca42, 0x9a99]);
    }
  });

  socat.it('gets exception 03 for a quantity of 0 and of 126 registers over Modbus TCP', async () => {
    const { net } = await clients();
    expect((await failure(() => net.readHoldingRegisters(10, 0))).modbusCode).toBe(3);
    expect((await failure(() => net.readHoldingRegisters(10, 126))).modbusCode).toBe(3);
    expect((await failure(() => net.readCoils(0, 2001))).modbusCode).toBe(3);
  });

  socat.it(
    'answers raw RTU requests for 0 and 126 registers with exception 03 frames, CRC included',
    async () => {
      // modbus-serial's RTU ports wait for at least 6 bytes when 0 registers are asked for, so
      // these frames are written by hand, with the CRC computed here.
      const s = await sim(scenario);
      const dtu = await rawTcp(bus(s, 'dtu').port!);
      const line = await rawPty(bus(s, 'line').path!);
      for (const [link, unit] of [
        [dtu, '01'],
        [line, '07'],
      ] as const) {
        for (const quantity of ['0000', '007E']) {
          link.send(rtu(`${unit} 03 000A ${quantity}`));
          expect((await link.receive(5, 1000)).toString('hex')).toBe(rtu(`${unit} 83 03`).toString('hex'));
        }
      }
    },
  );

  socat.it(
    'gets exception 02 for an address outside the map and 01 for a function the device lacks',
    async () => {
      const { s, net } = await clients();
      expect((await failure(() => net.readHoldingRegisters(5000, 2))).modbusCode).toBe(2);
      const box = await rtuTcpClient(bus(s, 'dtu').port!, 4);
      expect((await failure(() => box.readInputRegisters(500, 1))).modbusCode).toBe(1);
      expect((await failure(() => box.readCoils(0, 1))).modbusCode).toBe(1);
    },
  );

  socat.it('writes registers and coils and reads them back', async () => {
    const { net, line } = await clients();
    for (const c of [net, line]) {
      await c.writeRegister(40, 3);
      expect((await c.readHoldingRegisters(40, 1)).data).toEqual([3]);
      await c.writeRegisters(40, [9]);
      expect((await c.readHoldingRegisters(40, 1)).data).toEqual([9]);
      await c.writeCoils(0, [true, false]);
      expect((await c.readCoils(0, 2)).data.slice(0, 2)).toEqual([true, false]);
      await c.writeCoil(1, true);
      expect((await c.readCoils(0, 2)).data.slice(0, 2)).toEqual([true, true]);
      expect((await c.readDiscreteInputs(0, 1)).data[0]).toBe(false);
    }
  });

  socat.it('reads the device identification with FC43/14', async () => {
    const { s, net } = await clients();
    const id = await net.readDeviceIdentification(1, 0);
    expect(id.data).toEqual({ 0: 'Fixture Instruments', 1: 'CEMS-UV', 2: '1.0' });
    expect(id.conformityLevel).toBe(0x81);
    // The same request as a raw RTU frame on the serial server: object 1 alone (code 04).
    const dtu = await rawTcp(bus(s, 'dtu').port!);
    dtu.send(rtu('01 2B 0E 04 01'));
    const product = Buffer.from('CEMS-UV').toString('hex');
    expect((await dtu.receive(17, 1000)).toString('hex')).toBe(
      rtu(`01 2B 0E 04 81 00 00 01 01 07 ${product}`).toString('hex'),
    );
  });

  it('answers a device on its universal id 0xFF when it is alone on the bus', async () => {
    const s = await sim({
      buses: [{ name: 'dtu', kind: 'rtu-tcp' }],
      devices: [{ id: 'box', profile: 'fixture.weather-box', unit: 4, bus: 'dtu', coldStart: false }],
    });
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 0xff);
    expect((await c.readHoldingRegisters(2000, 1)).data).toEqual([0]);
    expect((await c.readHoldingRegisters(507, 2)).data).toEqual([35, 61]);
  });

  it('garbles the reply when two devices answer the universal id at once', async () => {
    const s = await sim({
      buses: [{ name: 'dtu', kind: 'rtu-tcp' }],
      devices: [
        { id: 'a', profile: 'fixture.weather-box', unit: 4, bus: 'dtu', coldStart: false },
        {
          id: 'b',
          profile: 'fixture.weather-box',
          unit: 5,
          bus: 'dtu',
          coldStart: false,
          points: { pm2_5: 99 },
        },
      ],
    });
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 0xff, 500);
    const e = await failure(() => c.readHoldingRegisters(507, 1));
    expect(e.message).toMatch(/CRC|timed out/i);
    expect(s.stats('dtu').collisions).toBe(1);
  });

  socat.it('puts a pty at the path the scenario gives and removes it when stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantian-sim-test-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, 'ttyRS485');
    const s = await sim({
      buses: [{ name: 'line', kind: 'pty', link }],
      devices: [{ id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'line' }],
    });
    expect(bus(s, 'line')).toMatchObject({ address: link, path: link });
    const c = await ptyClient(link, 1);
    expect((await c.readHoldingRegisters(14, 2)).buffer.readFloatBE(0)).toBe(12.25);
    await new Promise<void>((r) => c.close(() => r()));
    await s.stop();
    expect(existsSync(link)).toBe(false);
  });

  socat.it(
    'refuses a read larger than the profile allows with exception 03 but serves the largest allowed',
    async () => {
      const s = await sim(scenario);
      const box = await rtuTcpClient(bus(s, 'dtu').port!, 4);
      expect((await box.readHoldingRegisters(500, 8)).data).toHaveLength(8);
      expect((await failure(() => box.readHoldingRegisters(500, 9))).modbusCode).toBe(3);
    },
  );

  it('stays silent for its boot delay after the simulator starts, then answers', async () => {
    const s = await sim({
      buses: [{ name: 'dtu', kind: 'rtu-tcp' }],
      devices: [{ id: 'box', profile: 'fixture.weather-box', unit: 4, bus: 'dtu' }],
    });
    const started = Date.now();
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 4, 300);
    expect((await failure(() => c.readHoldingRegisters(500, 1))).errno).toBe('ETIMEDOUT');
    let answered = false;
    while (!answered && Date.now() - started < 5000) {
      answered = await c.readHoldingRegisters(500, 1).then(
        () => true,
        () => false,
      );
    }
    expect(answered).toBe(true);
    // The profile's boot delay is 1500 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });
});
