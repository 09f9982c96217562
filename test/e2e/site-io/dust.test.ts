/**
 * A construction site's dust processing through the real gateway: the simulator's PMS5003 on a
 * socat pty and its weather/dust box over Modbus TCP, a real Mosquitto, and a plain MQTT client
 * standing in for the platform. The gateway's clock is shifted to 18 seconds before a
 * quarter-hour boundary, so a minute and a quarter-hour close within seconds of the start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect } from 'vitest';
import { systemClock, type Clock } from '../../../gateway/src/core/clock.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import {
  aggBatchSchema,
  eventMessageSchema,
  type AggBatch,
  type EventMessage,
} from '../../../gateway/src/uplink/mqtt/contract.js';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import { loadScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { requireTool } from '../../helpers/tools.js';
import { until } from '../../integration/site-io/helpers.js';

const tools = requireTool('socat', 'mosquitto');
const QUARTER = 15 * 60_000;

let dir: string;
let sim: Simulator;
let broker: MosquittoBroker;
let platform: MqttClient;
let gw: Gateway | undefined;
const aggregates: AggBatch['aggregates'] = [];
const events: EventMessage[] = [];

beforeEach(async () => {
  if (!tools.available) return;
  dir = mkdtempSync(join(tmpdir(), 'lantian-dust-'));
  writeFileSync(
    join(dir, 'sim.yaml'),
    `name: dust
seed: 1
buses:
  - { name: pms, kind: pty, line: { baud: 9600, dataBits: 8, parity: none, stopBits: 1 } }
  - { name: site, kind: tcp, port: 0 }
devices:
  - { id: pms1, uart: pms5003, bus: pms, mode: active, intervalMs: 200, points: { pm2_5: 120, pm10: 300 } }
  - { id: dust1, profile: renke-style.weather-box-01f4, unit: 1, bus: site, points: { pm10: 120, wind_speed: 2 } }
`,
  );
  sim = await startSimulator(loadScenario(join(dir, 'sim.yaml')));
  broker = await startMosquitto();
  aggregates.length = 0;
  events.length = 0;
  platform = await mqtt.connectAsync(broker.url);
  await platform.subscribeAsync(['lantian/v1/gw-dust/agg', 'lantian/v1/gw-dust/events'], { qos: 1 });
  platform.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as unknown;
    if (topic.endsWith('/agg')) aggregates.push(...aggBatchSchema.parse(body).aggregates);
    else events.push(eventMessageSchema.parse(body));
  });
});

afterEach(async () => {
  if (!tools.available) return;
  await gw?.stop(500);
  gw = undefined;
  await platform.endAsync();
  await broker.close();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The gateway, its dust monitor polled every `boxPeriodMs`. */
function start(boxPeriodMs: number): Gateway {
  const file = join(dir, 'site.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: site, name: Construction site }
gateway: { id: gw-dust }
buses:
  site: { kind: tcp, host: 127.0.0.1, port: ${sim.buses.find((b) => b.name === 'site')!.port}, timeoutMs: 500, retries: 0 }
devices:
  dust1: { profile: renke-style.weather-box-01f4, bus: site, unitId: 1, periodMs: ${boxPeriodMs} }
pmSensors:
  pms1: { port: ${sim.buses.find((b) => b.name === 'pms')!.path}, model: pms5003, frameIntervalMs: 200 }
dust:
  districtReference: 40
  limits:
    pms1/pm10: { max: 150, averaging: minute }
    dust1/pm10: { max: 50, averaging: minute, minusReference: true }
  highWind: { point: dust1/wind_speed, above: 10.8, below: 8, holdS: 0, clearS: 0, periodMs: 200 }
uplinks:
  mqtt: { url: '${broker.url}', batch: { lingerMs: 100 } }
storage: { path: log.db, quotaMb: 64 }
`,
  );
  // Eighteen seconds before a quarter-hour boundary of the gateway's clock.
  const now = Date.now();
  const offset = QUARTER - (now % QUARTER) - 18_000;
  const clock: Clock = { ...systemClock, now: () => Date.now() + offset };
  const g = new Gateway(loadSiteConfig(file), { clock });
  gw = g;
  g.start();
  return g;
}

type Reading = LogRecord & { type: 'reading' };
const readings = (g: Gateway, device: string, point: string): Reading[] =>
  g.log
    .read(0, 1_000_000)
    .filter((r): r is Reading => r.type === 'reading' && r.device === device && r.point === point);

/** Median time between the readings of `device/point` logged after `fromTs`, ms. */
function medianGap(g: Gateway, device: string, point: string, fromTs: number, n: number): number {
  const ts = readings(g, device, point)
    .filter((r) => r.ts > fromTs)
    .slice(0, n)
    .map((r) => r.ts);
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

const payloadOf = (e: EventMessage) => e.payload as Record<string, unknown>;

tools.it(
  'UART and Modbus dust get minute and 15-minute values on agg and site-limit exceedances on events',
  async () => {
    // Eighteen seconds of a minute at 500 ms: enough samples for a valid minute (12).
    start(500);
    await until(
      () => aggregates.some((a) => a.device === 'pms1' && a.point === 'pm10' && a.period === 'quarter_hour'),
      'a quarter-hour of the UART sensor on agg',
      40_000,
    );
    const minute = aggregates.find((a) => a.device === 'pms1' && a.point === 'pm10' && a.period === 'minute');
    expect(minute).toMatchObject({ avg: 300, flag: 'N', hj212: 'a34002', unit: 'ug/m3' });
    // The quarter-hour had one minute of the twelve it needs: reported, flagged as not valid.
    const quarter = aggregates.find(
      (a) => a.device === 'pms1' && a.point === 'pm10' && a.period === 'quarter_hour',
    );
    expect(quarter).toMatchObject({ avg: 300, count: 1, required: 12, inputs: 1 });
    expect(quarter!.flag).not.toBe('N');
    expect(quarter!.start % QUARTER).toBe(0);
    // Points that are not dust (the counts, the wind) have no quarter-hours.
    expect(
      aggregates
        .filter((a) => a.period === 'quarter_hour')
        .map((a) => a.point)
        .sort(),
    ).toEqual(expect.arrayContaining(['pm10', 'pm2_5']));
    expect(aggregates.some((a) => a.period === 'quarter_hour' && a.point === 'wind_speed')).toBe(false);

    await until(
      () => events.filter((e) => e.kind === 'exceedance').length >= 2,
      'both site-limit exceedances on events',
      20_000,
    );
    const ex = events.filter((e) => e.kind === 'exceedance').map(payloadOf);
    expect(ex.find((p) => p.device === 'pms1')).toMatchObject({ state: 'raised', value: 300, limit: 150 });
    // The box's 120 µg/m3 is 80 above the district's 40: over the limit of 50 on the excess.
    expect(ex.find((p) => p.device === 'dust1')).toMatchObject({
      state: 'raised',
      value: 80,
      measured: 120,
      reference: 40,
      limit: 50,
    });
    expect(ex.every((p) => !('outlet' in p))).toBe(true);
  },
  90_000,
);

tools.it(
  'high wind raises high_wind, makes the dust monitor poll faster, and both end when the wind drops',
  async () => {
    const g = start(1000);
    await until(() => readings(g, 'dust1', 'pm10').length >= 4, 'the box polled', 15_000);
    const calm = medianGap(g, 'dust1', 'pm10', 0, 4);
    expect(calm).toBeGreaterThan(800);

    sim.control.setPoint('dust1', 'wind_speed', 20);
    await until(() => events.some((e) => e.kind === 'high_wind'), 'high_wind raised on events', 15_000);
    const raised = events.find((e) => e.kind === 'high_wind')!;
    expect(payloadOf(raised)).toMatchObject({
      state: 'raised',
      device: 'dust1',
      point: 'wind_speed',
      value: 20,
    });
    await until(
      () => readings(g, 'dust1', 'pm10').filter((r) => r.ts > raised.ts + 1500).length >= 6,
      'fast polls',
      15_000,
    );
    expect(medianGap(g, 'dust1', 'pm10', raised.ts + 1500, 6)).toBeLessThan(500);

    sim.control.setPoint('dust1', 'wind_speed', 3);
    await until(
      () => events.some((e) => e.kind === 'high_wind' && payloadOf(e).state === 'cleared'),
      'high_wind cleared',
      15_000,
    );
    const cleared = events.find((e) => e.kind === 'high_wind' && payloadOf(e).state === 'cleared')!;
    expect(payloadOf(cleared)).toMatchObject({ start: payloadOf(raised).start, peak: 20 });
    await until(
      () => readings(g, 'dust1', 'pm10').filter((r) => r.ts > cleared.ts + 1500).length >= 4,
      'slow polls again',
      15_000,
    );
    expect(medianGap(g, 'dust1', 'pm10', cleared.ts + 1500, 4)).toBeGreaterThan(800);
  },
  90_000,
);
