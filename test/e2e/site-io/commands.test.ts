/**
 * The platform's commands acting on the site I/O controller through the real gateway: signed
 * commands over a real Mosquitto, the emulated Firmata board on a socat pty, the simulator's dust
 * box over Modbus TCP. relay-override forces the fog cannon for a bounded time; alert-level red
 * forces its on/off schedule; the status beacon is steady, then blinks on a fault and an alert.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import type { CommandResult } from '../../../gateway/src/uplink/commands/index.js';
import { signCommand } from '../../../gateway/src/uplink/commands/sign.js';
import { loadScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';
import { FirmataBoard } from '../../../hardware-sim/src/firmata/board.js';
import { FirmataLink } from '../../../hardware-sim/src/firmata/link.js';
import { countsForMa } from '../../../firmware/src/scaling.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { requireTool } from '../../helpers/tools.js';
import { until } from '../../integration/site-io/helpers.js';

const tools = requireTool('socat', 'mosquitto');
const GW = 'gw-io-cmd';
const FOG = 8;
const BEACON = 9;
const keys = generateKeyPairSync('ed25519');

let dir: string;
let sim: Simulator;
let board: FirmataBoard;
let link: FirmataLink;
let broker: MosquittoBroker;
let platform: MqttClient;
let gw: Gateway | undefined;
const results: CommandResult[] = [];

beforeEach(async () => {
  if (!tools.available) return;
  dir = mkdtempSync(join(tmpdir(), 'lantian-io-cmd-'));
  writeFileSync(join(dir, 'platform.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(
    join(dir, 'sim.yaml'),
    `name: site
seed: 1
buses:
  - { name: site, kind: tcp, port: 0 }
devices:
  - { id: dust1, profile: renke-style.weather-box-01f4, unit: 1, bus: site, points: { pm10: 40, wind_speed: 2 } }
`,
  );
  sim = await startSimulator(loadScenario(join(dir, 'sim.yaml')));
  board = new FirmataBoard({ bootMs: 30 });
  board.setAnalog('A0', countsForMa(12));
  link = await FirmataLink.open({ board, ptyPath: join(dir, 'ttyACM0') });
  broker = await startMosquitto();
  results.length = 0;
  platform = await mqtt.connectAsync(broker.url);
  platform.on('message', (_t, p) => results.push(JSON.parse(p.toString()) as CommandResult));
  await platform.subscribeAsync(`lantian/v1/${GW}/cmd/+/result`, { qos: 1 });
});

afterEach(async () => {
  if (!tools.available) return;
  await gw?.stop(500);
  gw = undefined;
  await platform.endAsync();
  await broker.close();
  await link.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function start(siteIo: boolean): Gateway {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: site, name: Construction site }
gateway: { id: ${GW} }
buses:
  site: { kind: tcp, host: 127.0.0.1, port: ${sim.buses[0]!.port}, timeoutMs: 500, retries: 0 }
devices:
  dust1: { profile: renke-style.weather-box-01f4, bus: site, unitId: 1, periodMs: 300 }
uplinks:
  mqtt: { url: '${broker.url}', commands: { platformKey: platform.pem } }
storage: { path: log.db, quotaMb: 64 }
` +
      (siteIo
        ? `siteIo:
  board: { port: ${join(dir, 'ttyACM0')} }
  periodS: 1
  staleAfterMs: 600
  analogInputs:
    water_pressure: { pin: A0, signal: 4-20mA, range: [0, 1000], unit: kPa }
  relays:
    fog_cannon:
      pin: ${FOG}
      linkage: { point: dust1/pm10, onAbove: 150, offBelow: 100, holdS: 0, minOnS: 0, minOffS: 0, alertOnS: 2, alertOffS: 2 }
  beacon: { pin: ${BEACON}, blinkMs: 200, alertFrom: orange }
`
        : ''),
  );
  const g = new Gateway(loadSiteConfig(file));
  gw = g;
  g.start();
  return g;
}

let n = 0;
/** Signs and sends a command as the platform does, and waits for its result. */
async function send(name: string, args: unknown): Promise<CommandResult> {
  const id = `c${++n}`;
  // The handler subscribes once connected: resend until it answers.
  for (let attempt = 0; attempt < 40; attempt++) {
    await platform.publishAsync(
      `lantian/v1/${GW}/cmd/${name}`,
      JSON.stringify(signCommand(id, args, keys.privateKey, Date.now())),
      {
        qos: 1,
      },
    );
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      const r = results.find((x) => x.id === id);
      if (r) return r;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`no result for ${name}`);
}

type EventRecord = LogRecord & { type: 'event' };
const events = (g: Gateway, kind: string): EventRecord[] =>
  g.log.read(0, 1_000_000).filter((r): r is EventRecord => r.type === 'event' && r.kind === kind);
const payload = (e: EventRecord) => e.payload as Record<string, unknown>;

/** Levels the board's pin showed over `ms`, sampled every 20 ms. */
async function levels(pin: number, ms: number): Promise<(0 | 1)[]> {
  const seen: (0 | 1)[] = [];
  for (const end = Date.now() + ms; Date.now() < end;) {
    seen.push(board.level(pin));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return seen;
}
/** Waits for the board's analog input to report, so nothing is stale. */
const inputsReporting = (g: Gateway) =>
  until(
    () =>
      g.log
        .read(0, 1_000_000)
        .some((x) => x.type === 'reading' && x.point === 'water_pressure' && x.flag === 'N'),
    'the inputs reporting',
    15_000,
  );
const toggles = (xs: readonly number[]) => xs.slice(1).filter((x, i) => x !== xs[i]).length;

tools.it(
  'relay-override forces the fog cannon on for its duration, then the rule takes it back; an unknown relay is refused',
  async () => {
    const g = start(true);
    await inputsReporting(g);
    expect(board.level(FOG)).toBe(0);

    const r = await send('relay-override', { relay: 'fog_cannon', state: 'on', durationS: 2 });
    expect(r).toMatchObject({ ok: true, result: { relay: 'fog_cannon', state: 'on', on: true } });
    await until(() => board.level(FOG) === 1, 'relay closed by the override', 5000);
    const set = events(g, 'relay_override')[0]!;
    expect(payload(set)).toMatchObject({
      relay: 'fog_cannon',
      state: 'on',
      until: (r.result as { until: number }).until,
    });
    expect(payload(events(g, 'relay')[0]!)).toMatchObject({ on: true, reason: 'manual' });

    // The dust is low: once the override expires the rule opens the relay again.
    await until(() => board.level(FOG) === 0, 'relay opened after the override', 10_000);
    expect(payload(events(g, 'relay_override').at(-1)!)).toMatchObject({ state: 'auto', reason: 'expired' });
    expect(events(g, 'relay_override').at(-1)!.ts - set.ts).toBeGreaterThanOrEqual(2000);

    const bad = await send('relay-override', { relay: 'sprinkler', state: 'on', durationS: 60 });
    expect(bad.ok).toBe(false);
    expect(bad.refusal).toMatchObject({ reason: 'bad_arguments' });
    expect(bad.refusal!.message).toContain('relays: fog_cannon');
    const endless = await send('relay-override', { relay: 'fog_cannon', state: 'on' });
    expect(endless.refusal).toMatchObject({ reason: 'bad_arguments' });
    expect(board.level(FOG)).toBe(0);
    expect(events(g, 'command_refused')).toHaveLength(2);
  },
  60_000,
);

tools.it(
  'alert-level red forces the on/off schedule on the board and makes the steady beacon blink; a 4-20 mA fault does too',
  async () => {
    const g = start(true);
    await inputsReporting(g);
    expect(payload(events(g, 'beacon')[0]!)).toMatchObject({ state: 'steady', reasons: [] });
    // The event is logged as the lamp's write leaves for the board: wait for the board to see it
    // lit, then it stays lit.
    await until(() => board.level(BEACON) === 1, 'the steady beacon lit on the board', 5000);
    expect(toggles(await levels(BEACON, 600))).toBe(0);
    expect(board.level(BEACON)).toBe(1);

    board.setAnalog('A0', countsForMa(2)); // a broken loop: NE43 fault
    await until(() => events(g, 'beacon').length > 1, 'the beacon blinking', 5000);
    expect(payload(events(g, 'beacon')[1]!)).toMatchObject({ state: 'blinking', reasons: ['input_fault'] });
    expect(toggles(await levels(BEACON, 1000))).toBeGreaterThanOrEqual(3);
    board.setAnalog('A0', countsForMa(12));
    await until(() => payload(events(g, 'beacon').at(-1)!).state === 'steady', 'steady again', 5000);

    expect(await send('alert-level', { level: 'red' })).toMatchObject({ ok: true });
    await until(() => board.level(FOG) === 1, 'the schedule switches on', 5000);
    await until(() => board.level(FOG) === 0, 'then off', 5000);
    await until(() => board.level(FOG) === 1, 'then on again', 5000);
    const reasons = events(g, 'relay').map((e) => payload(e).reason);
    expect(reasons.slice(0, 3)).toEqual(['alert_schedule', 'alert_schedule', 'alert_schedule']);
    expect(payload(events(g, 'beacon').at(-1)!)).toMatchObject({ state: 'blinking', reasons: ['alert'] });

    await send('alert-level', { level: 'none' });
    await until(
      () => board.level(FOG) === 0 && payload(events(g, 'beacon').at(-1)!).state === 'steady',
      'calm',
      5000,
    );
  },
  60_000,
);

tools.it(
  'a gateway without site I/O refuses relay-override as unavailable',
  async () => {
    start(false);
    const r = await send('relay-override', { relay: 'fog_cannon', state: 'on', durationS: 60 });
    expect(r.ok).toBe(false);
    expect(r.refusal).toMatchObject({ reason: 'unavailable' });
    expect(r.refusal!.message).toContain('siteIo');
  },
  30_000,
);
