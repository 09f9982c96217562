/**
 * The HTTP control interface on loopback: every route, observed through a Modbus client.
 */
import { describe, expect, it } from 'vitest';
import { bus, failure, rtuTcpClient, sim, useCleanup } from './helpers.js';

useCleanup();

const scenario = {
  buses: [{ name: 'dtu', kind: 'rtu-tcp' }],
  devices: [
    { id: 'uv', profile: 'fixture.cems-uv', unit: 1, bus: 'dtu' },
    {
      id: 'dust',
      profile: 'fixture.dust-cpm',
      unit: 2,
      bus: 'dtu',
      schedule: [{ state: 'fault', at: '+0s', for: '1h' }],
    },
  ],
};

async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
}

describe('HTTP control interface', () => {
  it('lists buses, devices and faults; injects and clears faults; refuses bad ones', async () => {
    const s = await sim(scenario, 0);
    const base = s.controlUrl!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const root = await api(base, 'GET', '/');
    expect(root.body).toMatchObject({
      buses: [{ name: 'dtu', kind: 'rtu-tcp' }],
      devices: [
        { id: 'uv', profile: 'fixture.cems-uv', unitId: 1, power: 'on', states: [] },
        { id: 'dust', states: ['fault'] },
      ],
      faults: [],
    });
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 300);
    const added = await api(base, 'POST', '/faults', { kind: 'no-answer', device: 'uv' });
    expect(added.status).toBe(201);
    expect((await failure(() => c.readHoldingRegisters(12, 2))).errno).toBe('ETIMEDOUT');
    expect((await api(base, 'GET', '/faults')).body).toHaveLength(1);
    expect((await api(base, 'DELETE', `/faults/${added.body.id as string}`)).body).toEqual({ cleared: 1 });
    expect((await c.readHoldingRegisters(12, 2)).data).toEqual([0x420e, 0]);

    const bad = await api(base, 'POST', '/faults', { kind: 'no-answer', device: 'ghost' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('SIM_CONTROL_INVALID');
    const notJson = await fetch(`${base}/faults`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect((await api(base, 'GET', '/nowhere')).status).toBe(404);
    expect((await api(base, 'DELETE', '/faults/f99')).body.code).toBe('SIM_CONTROL_INVALID');
  });

  it('holds and releases point values, forces states, power-cycles, reads and resets statistics', async () => {
    const s = await sim(scenario, 0);
    const base = s.controlUrl!;
    const c = await rtuTcpClient(bus(s, 'dtu').port!, 1, 300);
    expect((await api(base, 'PUT', '/devices/uv/points/temp', { value: 81.3 })).status).toBe(200);
    expect((await c.readHoldingRegisters(22, 1)).data).toEqual([813]);
    const refused = await api(base, 'PUT', '/devices/uv/points/temp', { value: 'hot' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'SIM_CONTROL_INVALID' } });
    expect((await c.readHoldingRegisters(22, 1)).data).toEqual([813]);
    await api(base, 'PUT', '/devices/uv/points/temp', { value: null });
    expect((await c.readHoldingRegisters(22, 1)).data).toEqual([0xffc9]);

    // Maintenance: register 11 becomes non-zero, as the profile's status mapping reads it.
    await api(base, 'PUT', '/devices/uv/states/maintenance', { durationMs: 60_000 });
    expect((await c.readHoldingRegisters(11, 1)).data).toEqual([1]);
    await api(base, 'DELETE', '/devices/uv/states/maintenance');
    expect((await c.readHoldingRegisters(11, 1)).data).toEqual([0]);
    expect((await api(base, 'PUT', '/devices/uv/states/sleepy', {})).body.code).toBe('SIM_CONTROL_INVALID');

    // The dust monitor's schedule says fault: bit 7 of its float state word.
    c.setID(2);
    expect((await c.readHoldingRegisters(14, 2)).buffer.readFloatBE(0)).toBe(128);

    const cycled = await api(base, 'POST', '/devices/uv/power-cycle', { offMs: 400 });
    expect(cycled.body).toMatchObject({ spec: { kind: 'power-cycle', device: 'uv', offMs: 400 } });
    c.setID(1);
    expect((await failure(() => c.readHoldingRegisters(12, 2))).errno).toBe('ETIMEDOUT');

    const stats = await api(base, 'GET', '/stats/dtu');
    expect(stats.body).toMatchObject({ bus: 'dtu', kind: 'rtu-tcp', silent: 1 });
    expect((stats.body.transactions as number) >= 6).toBe(true);
    expect((await api(base, 'GET', '/stats')).body).toHaveLength(1);
    await api(base, 'POST', '/stats/reset', {});
    expect((await api(base, 'GET', '/stats/dtu')).body).toMatchObject({ transactions: 0 });
  });
});
