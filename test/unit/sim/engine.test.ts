import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/src/core/index.js';
import { ModbusDevice, type ModbusDeviceOptions } from '../../../hardware-sim/src/device/modbus-device.js';
import { fixtureProfile } from '../../fixtures/sim/profiles.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function device(id = 'fixture.cems-uv', extra: Partial<ModbusDeviceOptions> = {}): ModbusDevice {
  return new ModbusDevice({
    id: 'd1',
    profile: fixtureProfile(id),
    unitId: 1,
    clock: systemClock,
    startMs: Date.now(),
    coldStart: false,
    ...extra,
  });
}

const ask = (d: ModbusDevice, pdu: string) => d.serve(hex(pdu))?.toString('hex');

describe('Modbus slave engine', () => {
  it('serves holding registers as the profile example holds them', () => {
    expect(ask(device(), '03 000C 0004')).toBe('0308420e0000414400 00'.replace(' ', ''));
  });

  it('answers exception 01 for a function the device does not implement', () => {
    const d = device('fixture.weather-box');
    expect(ask(d, '04 01F4 0001')).toBe('8401');
    expect(ask(d, '41 0000')).toBe('c101');
    expect(ask(d, '2B 0E 01 00')).toBe('ab01');
  });

  it('answers exception 03 for a quantity of 0, above 125 registers or 2000 bits, or above the device limit', () => {
    const d = device();
    expect(ask(d, '03 000A 0000')).toBe('8303');
    expect(ask(d, '03 000A 007E')).toBe('8303');
    expect(ask(d, '03 000A 003D')).toBe('8303'); // 61 > maxReadRegisters 60
    expect(ask(d, '01 0000 0000')).toBe('8103');
    expect(ask(d, '01 0000 07D1')).toBe('8103');
    expect(ask(device('fixture.weather-box'), '03 01F4 0009')).toBe('8303');
  });

  it('checks the quantity before the address, as the specification orders', () => {
    expect(ask(device(), '03 FFF0 0000')).toBe('8303');
  });

  it('answers exception 02 for addresses outside the map and for a read running past it', () => {
    const d = device();
    expect(ask(d, '03 0000 0001')).toBe('8302');
    expect(ask(d, '03 0028 0002')).toBe('8302'); // 40 is the last register
    expect(ask(d, '03 FFFF 0002')).toBe('8302');
    expect(ask(d, '02 0001 0001')).toBe('8202');
  });

  it('reads gaps between points as zero with span addressing and refuses them with points addressing', () => {
    expect(ask(device(), '03 0021 0002')).toBe('030400000000');
    expect(ask(device('fixture.cems-uv', { addressing: 'points' }), '03 0021 0002')).toBe('8302');
  });

  it('writes a register and a coil the profile marks writable and echoes the request', () => {
    const d = device();
    expect(ask(d, '06 0028 0007')).toBe('0600280007');
    expect(ask(d, '03 0028 0001')).toBe('03020007');
    expect(ask(d, '05 0001 FF00')).toBe('050001ff00');
    expect(ask(d, '01 0000 0002')).toBe('010102');
    expect(ask(d, '10 0028 0001 02 0009')).toBe('1000280001');
    expect(ask(d, '0F 0000 0002 01 01')).toBe('0f00000002');
    expect(ask(d, '01 0000 0002')).toBe('010101');
  });

  it('refuses writes to read-only registers (02) and malformed write values (03)', () => {
    const d = device();
    expect(ask(d, '06 000C 0001')).toBe('8602');
    expect(ask(d, '05 0000 1234')).toBe('8503');
    expect(ask(d, '10 0028 0001 04 0009 0000')).toBe('9003');
    expect(ask(d, '0F 0000 0002 02 01 00')).toBe('8f03');
  });

  it('reports device identification objects with FC43/14', () => {
    const reply = device().serve(hex('2B 0E 01 00'))!;
    expect(reply.subarray(0, 7).toString('hex')).toBe('2b0e0181000003');
    const text = reply.subarray(7).toString('latin1');
    expect(text).toContain('Fixture Instruments');
    expect(text).toContain('CEMS-UV');
    expect(ask(device(), '2B 0E 04 01')).toBe(`2b0e04810000010107${Buffer.from('CEMS-UV').toString('hex')}`);
    expect(ask(device(), '2B 0E 04 09')).toBe('ab02');
    expect(ask(device(), '2B 0E 05 00')).toBe('ab03');
  });

  it('executes a broadcast write without answering', () => {
    const d = device();
    expect(d.serve(hex('06 0028 0005'), true)).toBeUndefined();
    expect(ask(d, '03 0028 0001')).toBe('03020005');
  });

  it('answers on its universal id only when the profile says so', () => {
    expect(device('fixture.weather-box').answersTo(0xff)).toBe(true);
    expect(device('fixture.cems-uv').answersTo(0xff)).toBe(false);
  });

  it('stays silent while booting and after a power cycle, then answers', () => {
    const d = device('fixture.weather-box', { coldStart: true });
    const now = performance.now();
    expect(d.ready(now)).toBe(false);
    expect(d.ready(now + 1600)).toBe(true);
    d.powerCycle(500, now + 2000);
    expect(d.power(now + 2100).state).toBe('off');
    expect(d.power(now + 2600).state).toBe('booting');
    expect(d.ready(now + 4100)).toBe(true);
  });

  it('ignores a request that comes sooner than its minimum gap after its last reply', () => {
    const d = device('fixture.dust-cpm');
    d.noteReplyEnd(1000);
    expect(d.ready(1020)).toBe(false);
    expect(d.ready(1051)).toBe(true);
  });
});
