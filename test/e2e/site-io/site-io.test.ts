/**
 * The site I/O controller through the real gateway: a Modbus weather/dust box on the simulator
 * (TCP), an SO2 analyzer beside it, and the emulated Firmata board on a socat pty opened with
 * johnny-five. Dust rises -> fog cannon on; falls -> off after the minimum on-time; the cabinet
 * door -> tamper; a 4-20 mA wire break -> D; the calibration contact -> the analyzer's readings
 * C; the link drops -> fail-safe, then recovery.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { FirmataBoard } from '../../../hardware-sim/src/firmata/board.js';
import { FirmataLink } from '../../../hardware-sim/src/firmata/link.js';
import { countsForMa } from '../../../firmware/src/scaling.js';
import { requireTool } from '../../helpers/tools.js';
import { until } from '../../integration/site-io/helpers.js';

const socat = requireTool('socat');

let dir: string;
let sim: Simulator;
let board: FirmataBoard;
let link: FirmataLink;
let gw: Gateway | undefined;

const DOOR = 2;
const CAL = 3;
const FOG = 8;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-site-io-'));
  writeFileSync(
    join(dir, 'sim.yaml'),
    `name: site
seed: 1
buses:
  - { name: site, kind: tcp, port: 0 }
devices:
  - id: dust1
    profile: renke-style.weather-box-01f4
    unit: 1
    bus: site
    points: { pm10: 40, wind_speed: 2 }
  - id: gas1
    profile: sdl.scs-900uv
    unit: 2
    bus: site
    points: { so2: 30 }
`,
  );
  sim = await startSimulator(withFreePorts(loadScenario(join(dir, 'sim.yaml'))));
  board = new FirmataBoard({ bootMs: 30 });
  board.setAnalog('A0', countsForMa(12));
  link = await FirmataLink.open({ board, ptyPath: join(dir, 'ttyACM0') });
});

afterEach(async () => {
  await gw?.stop(500);
  gw = undefined;
  await link.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(minOnS: number): Gateway {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: site, name: Construction site }
gateway: { id: gw-site }
buses:
  site: { kind: tcp, host: 127.0.0.1, port: ${sim.buses[0]!.port}, timeoutMs: 500, retries: 0 }
devices:
  dust1: { profile: renke-style.weather-box-01f4, bus: site, unitId: 1, periodMs: 200 }
  gas1: { profile: sdl.scs-900uv, bus: site, unitId: 2, periodMs: 200 }
storage: { path: log.db, quotaMb: 64 }
siteIo:
  board: { port: ${join(dir, 'ttyACM0')} }
  periodS: 1
  staleAfterMs: 600
  analogInputs:
    water_pressure: { pin: A0, signal: 4-20mA, range: [0, 1000], unit: kPa }
  dryContacts:
    cabinet_door: { pin: ${DOOR}, activeLow: false, role: door }
    gas1_calibration: { pin: ${CAL}, activeLow: true, role: calibration, device: gas1 }
  relays:
    fog_cannon:
      pin: ${FOG}
      failSafe: 'off'
      linkage: { point: dust1/pm10, onAbove: 150, offBelow: 100, holdS: 0, minOnS: ${minOnS}, minOffS: 0, windPoint: dust1/wind_speed, windCutOff: 15 }
`,
  );
  gw = new Gateway(loadSiteConfig(file));
  gw.start();
  return gw;
}

/** A gateway with no minimum on-time whose fog cannon the dust has switched on. */
async function fogCannonRunning(): Promise<Gateway> {
  const g = start(0);
  sim.control.setPoint('dust1', 'pm10', 300);
  await until(() => board.level(FOG) === 1, 'relay closed', 15_000);
  return g;
}

const records = (g: Gateway): LogRecord[] => g.log.read(0, 1_000_000);
const events = (g: Gateway, kind: string) =>
  records(g).filter((r): r is LogRecord & { type: 'event' } => r.type === 'event' && r.kind === kind);
const readings = (g: Gateway, device: string, point: string) =>
  records(g).filter((r) => r.type === 'reading' && r.device === device && r.point === point) as (LogRecord & {
    type: 'reading';
  })[];

socat.it(
  'dust above the threshold closes the fog-cannon relay on the board; below it opens after the minimum on-time',
  async () => {
    const g = start(2);
    await until(() => events(g, 'site_io_link').length > 0, 'link up', 15_000);
    sim.control.setPoint('dust1', 'pm10', 300);
    await until(() => board.level(FOG) === 1, 'relay closed', 10_000);
    const on = events(g, 'relay').find((e) => (e.payload as { on: boolean }).on)!;
    expect(on.payload).toMatchObject({ relay: 'fog_cannon', reason: 'dust_high', applied: true });
    sim.control.setPoint('dust1', 'pm10', 40);
    await until(() => board.level(FOG) === 0, 'relay open', 10_000);
    const off = events(g, 'relay').find((e) => !(e.payload as { on: boolean }).on)!;
    expect(off.payload).toMatchObject({ reason: 'dust_low' });
    expect(off.ts - on.ts).toBeGreaterThanOrEqual(2000);
    // The relay's state is a reading like any other.
    expect(readings(g, 'site-io', 'fog_cannon').some((r) => r.value === 1)).toBe(true);
  },
  40_000,
);

socat.it(
  'the cabinet door gives a tamper event, a broken 4-20 mA loop a D reading, the calibration contact C on the analyzer',
  async () => {
    const g = start(1);
    await until(
      () => readings(g, 'site-io', 'water_pressure').some((r) => r.flag === 'N'),
      'a pressure reading',
      15_000,
    );
    expect(readings(g, 'site-io', 'water_pressure').find((r) => r.flag === 'N')!.value).toBeCloseTo(500, -1);

    board.setContact(DOOR, false); // the door switch opens: the pulled-up pin reads high = active
    await until(() => events(g, 'tamper').length > 0, 'tamper event', 5000);
    expect(events(g, 'tamper')[0]!.payload).toMatchObject({ contact: 'cabinet_door', open: true });

    board.setAnalog('A0', 0);
    await until(
      () => readings(g, 'site-io', 'water_pressure').some((r) => r.flag === 'D'),
      'D reading',
      5000,
    );
    const broken = readings(g, 'site-io', 'water_pressure').find((r) => r.flag === 'D')!;
    expect(broken.value).toBeNull();
    expect(broken.raw).toEqual([0]);

    expect(readings(g, 'gas1', 'so2').every((r) => r.flag !== 'C')).toBe(true);
    board.setContact(CAL, true);
    await until(() => readings(g, 'gas1', 'so2').some((r) => r.flag === 'C'), 'C reading', 5000);
    board.setContact(CAL, false);
    const n = readings(g, 'gas1', 'so2').length;
    await until(() => readings(g, 'gas1', 'so2').length > n + 3, 'more readings', 5000);
    expect(readings(g, 'gas1', 'so2').at(-1)!.flag).toBe('N');
  },
  40_000,
);

socat.it(
  'a serial error after the board is up takes the link down and it comes back, the gateway running on',
  async () => {
    const g = await fogCannonRunning();
    // What a write to a pty that has just gone away gives: johnny-five hands the io's error on
    // as the board's own 'error' event.
    const up = g.siteIo!.link as unknown as { board: { io: { emit(e: string, x: unknown): boolean } } };
    up.board.io.emit('error', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    await until(
      () => events(g, 'site_io_link').some((e) => (e.payload as { state: string }).state === 'down'),
      'link down',
      5000,
    );
    await until(() => link.opens === 2 && board.level(FOG) === 1, 'reconnected, relay closed again', 20_000);
    expect(events(g, 'site_io_link').at(-1)!.payload).toMatchObject({ state: 'up' });
  },
  40_000,
);

socat.it(
  'a board link drop puts the relay in its fail-safe state and the controller reconnects and resumes',
  async () => {
    const g = await fogCannonRunning();
    await link.drop(1500);
    await until(
      () => events(g, 'relay').some((e) => (e.payload as { reason: string }).reason === 'fail_safe'),
      'fail-safe',
      10_000,
    );
    expect(events(g, 'site_io_link').map((e) => (e.payload as { state: string }).state)).toContain('down');
    await until(
      () => readings(g, 'site-io', 'water_pressure').some((r) => r.quality?.includes('link_down')),
      'a link_down reading',
      5000,
    );
    await until(() => link.opens === 2 && board.level(FOG) === 1, 'reconnected, relay closed again', 20_000);
    expect(events(g, 'site_io_link').at(-1)!.payload).toMatchObject({ state: 'up' });
  },
  45_000,
);

socat.it(
  'inputs that go stale put the relay in its fail-safe state until the board reports again',
  async () => {
    const g = await fogCannonRunning();
    board.setStale(true);
    await until(() => board.level(FOG) === 0, 'fail-safe off', 10_000);
    expect(events(g, 'site_io_failsafe').at(-1)!.payload).toMatchObject({ reason: 'stale_inputs' });
    await until(
      () => readings(g, 'site-io', 'water_pressure').some((r) => r.quality?.includes('stale')),
      'stale reading',
      5000,
    );
    board.setStale(false);
    await until(() => board.level(FOG) === 1, 'relay back on', 10_000);
  },
  40_000,
);
