/**
 * `lantian device` and its line config node in a real Node-RED runtime, polling the simulator
 * over RTU over TCP (a serial device server): values, units and flags per poll, one bus shared by the devices of one line,
 * refused settings, and a line that goes silent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import lantian from '../../../node-red/src/index.js';
import type { PollMessage } from '../../../node-red/src/poll-message.js';
import type { Simulator } from '../../../hardware-sim/src/index.js';
import { linkTo, startSim } from '../../fixtures/acquisition/sim.js';
import { collect, helper, loggedErrors, startServer, stopServer, until } from '../../helpers/node-red.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';

const DUST = loadProfiles().get('boling.dust-detector');
const EXAMPLE = DUST.examples[0]!.values;

let sim: Simulator;
let port: number;

beforeAll(async () => {
  sim = await startSim(
    [{ name: 'site', kind: 'rtu-tcp' }],
    [
      { id: 'dust1', profile: DUST.id, unit: 1, bus: 'site', example: 0, coldStart: false },
      { id: 'dust2', profile: DUST.id, unit: 2, bus: 'site', example: 0, coldStart: false },
    ],
  );
  const link = linkTo(sim, 'site');
  if (link.kind !== 'rtu-tcp') throw new Error('expected an rtu-tcp bus');
  port = link.port;
  await startServer();
});

afterEach(async () => {
  sim.control.clear();
  await helper.unload();
});

afterAll(async () => {
  await stopServer();
  await sim?.stop();
});

const line = (extra: object = {}) => ({
  id: 'line',
  type: 'lantian-line',
  name: 'site',
  transport: 'rtu-tcp',
  baud: '9600',
  host: '127.0.0.1',
  port: String(port),
  ...extra,
});
// Node ids differ from every property value: Node-RED takes a value equal to a node id as a reference.
const device = (id: string, extra: object = {}) => ({
  id,
  type: 'lantian-device',
  z: 'flow',
  name: id.replace('n-', ''),
  line: 'line',
  profile: DUST.id,
  unitId: id === 'n-dust2' ? '2' : '1',
  period: '0.2',
  timeoutMs: '150',
  retries: '0',
  wires: [[`${id}-out`]],
  ...extra,
});
const TAB = { id: 'flow', type: 'tab', label: 'test' };
const sink = (id: string) => ({ id, type: 'helper', z: 'flow', wires: [] });

describe('lantian device', () => {
  it('sends one message per poll with the profile example values, their units and flag N', async () => {
    await helper.load(lantian, [TAB, line(), device('n-dust1'), sink('n-dust1-out')]);
    const got = collect<PollMessage>('n-dust1-out');
    await until(() => got.length >= 2, 10_000, 'two polls');
    const msg = got[0]!;
    expect(msg.topic).toBe('dust1');
    expect(msg.profile).toBe(DUST.id);
    const measured = DUST.points.filter((p) => p.role === 'measurement').map((p) => p.key);
    expect(Object.keys(msg.payload).sort()).toEqual(measured.sort());
    for (const key of measured) if (key in EXAMPLE) expect(msg.payload[key]).toBe(EXAMPLE[key]);
    expect(msg.flag).toBe('N');
    expect(msg.flags['pm10']).toBe('N');
    expect(msg.units['pm10']).toBe(DUST.points.find((p) => p.key === 'pm10')!.unit);
    expect(msg.readings.find((r) => r.point === 'pm10')).toMatchObject({ value: EXAMPLE['pm10'], flag: 'N' });
  });

  it('shares one bus between the devices of a line: one transaction in flight, both devices polled', async () => {
    await helper.load(lantian, [
      TAB,
      line(),
      device('n-dust1'),
      device('n-dust2'),
      sink('n-dust1-out'),
      sink('n-dust2-out'),
    ]);
    const a = collect<PollMessage>('n-dust1-out');
    const b = collect<PollMessage>('n-dust2-out');
    await until(() => a.length >= 3 && b.length >= 3, 10_000, 'three polls of each device');
    // The simulator garbles overlapping frames as an RS-485 line would, and counts them.
    expect(sim.stats('site').collisions).toBe(0);
    expect(b[0]!.payload['pm10']).toBe(EXAMPLE['pm10']);
  });

  it('refuses a second device with the same unit id on one line, and says why', async () => {
    await helper.load(lantian, [
      TAB,
      line(),
      device('n-dust1'),
      device('n-twin', { unitId: '1' }),
      sink('n-dust1-out'),
      sink('n-twin-out'),
    ]);
    await until(() => loggedErrors('n-twin').length > 0, 5_000, 'an error from the twin');
    expect(loggedErrors('n-twin')[0]).toMatch(/^ACQ_OPTIONS_INVALID/);
  });

  it('refuses bad settings with NODERED_CONFIG naming the field', async () => {
    await helper.load(lantian, [
      TAB,
      line({ id: 'badline', port: '70000' }),
      line(),
      device('n-noperiod', { period: 'soon' }),
      device('n-noprofile', { profile: 'acme.nothing' }),
      device('n-orphan', { line: 'badline' }),
    ]);
    await until(() =>
      ['n-noperiod', 'n-noprofile', 'n-orphan', 'badline'].every((id) => loggedErrors(id).length > 0),
    );
    expect(loggedErrors('badline')[0]).toMatch(/^NODERED_CONFIG: .*port/);
    expect(loggedErrors('n-noperiod')[0]).toMatch(/^NODERED_CONFIG: .*period/);
    expect(loggedErrors('n-noprofile')[0]).toMatch(/^PROFILE_NOT_FOUND/);
    expect(loggedErrors('n-orphan')[0]).toMatch(/^NODERED_CONFIG: .*port/);
  });

  it('flags every point B with the reason when the line goes silent, then backs the device off', async () => {
    await helper.load(lantian, [TAB, line(), device('n-dust1', { period: '0.1' }), sink('n-dust1-out')]);
    const got = collect<PollMessage>('n-dust1-out');
    await until(() => got.some((m) => m.flag === 'N'), 10_000, 'a good poll');
    sim.control.inject({ kind: 'no-answer', bus: 'site' });
    await until(
      () => got.some((m) => m.readings.some((r) => r.quality?.includes('backoff'))),
      10_000,
      'back-off',
    );
    const silent = got.filter((m) => m.flag === 'B');
    expect(silent[0]!.readings.every((r) => r.value === null && r.flag === 'B')).toBe(true);
    expect(silent[0]!.readings[0]!.quality).toContain('timeout');
    sim.control.clear();
    const before = got.length;
    await until(() => got.slice(before).some((m) => m.flag === 'N'), 15_000, 'recovery after the silence');
  });
});
