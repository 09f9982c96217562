/**
 * UART particulate sensors through the real gateway: the simulator's PMS5003 and SDS011 on socat
 * ptys; checksum errors and truncated frames become flagged readings, never values.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import type { LogRecord } from '../../../gateway/src/store/records.js';
import { loadScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';
import { requireTool } from '../../helpers/tools.js';
import { until } from '../../integration/site-io/helpers.js';

const socat = requireTool('socat');

let dir: string;
let sim: Simulator;
let gw: Gateway | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-uart-'));
  writeFileSync(
    join(dir, 'sim.yaml'),
    `name: pm
seed: 1
buses:
  - { name: pms, kind: pty, line: { baud: 9600, dataBits: 8, parity: none, stopBits: 1 } }
  - { name: sds, kind: pty, line: { baud: 9600, dataBits: 8, parity: none, stopBits: 1 } }
devices:
  - { id: pms1, uart: pms5003, bus: pms, mode: active, intervalMs: 200, points: { pm2_5: 35, pm10: 80 } }
  - { id: sds1, uart: sds011, bus: sds, intervalMs: 200, points: { pm2_5: 12.3, pm10: 45.6 } }
`,
  );
  sim = await startSimulator(loadScenario(join(dir, 'sim.yaml')));
});

afterEach(async () => {
  await gw?.stop(200);
  gw = undefined;
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

type ReadingRecord = LogRecord & { type: 'reading' };
const readings = (g: Gateway, device: string): ReadingRecord[] =>
  g.log.read(0, 1_000_000).filter((r): r is ReadingRecord => r.type === 'reading' && r.device === device);

socat.it(
  'PMS5003 and SDS011 frames become readings; checksum errors and cut frames become B readings with no value',
  async () => {
    const path = (bus: string) => sim.buses.find((b) => b.name === bus)!.path!;
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      `version: 1
site: { id: site, name: Site }
gateway: { id: gw }
buses: {}
devices: {}
storage: { path: log.db }
pmSensors:
  pms1: { port: ${path('pms')}, model: pms5003, frameIntervalMs: 200 }
  sds1: { port: ${path('sds')}, model: sds011, frameIntervalMs: 200 }
`,
    );
    const g = new Gateway(loadSiteConfig(file));
    gw = g;
    g.start();
    await until(
      () => readings(g, 'pms1').some((r) => r.point === 'pm10' && r.flag === 'N'),
      'a PMS5003 reading',
      10_000,
    );
    await until(
      () => readings(g, 'sds1').some((r) => r.point === 'pm10' && r.flag === 'N'),
      'an SDS011 reading',
      10_000,
    );
    expect(readings(g, 'pms1').find((r) => r.point === 'pm10' && r.flag === 'N')!.value).toBe(80);
    expect(readings(g, 'sds1').find((r) => r.point === 'pm10' && r.flag === 'N')!.value).toBe(45.6);

    sim.control.inject({ kind: 'checksum-error', device: 'pms1', count: 2 });
    sim.control.inject({ kind: 'truncated', device: 'sds1', count: 2 });
    await until(
      () => readings(g, 'pms1').some((r) => r.quality?.includes('crc_error')),
      'crc_error readings',
      10_000,
    );
    await until(
      () => readings(g, 'sds1').some((r) => r.quality?.includes('bad_reply')),
      'cut frames flagged',
      10_000,
    );
    for (const device of ['pms1', 'sds1']) {
      const all = readings(g, device);
      // Every value is either the simulated one or null with a B flag: nothing in between.
      for (const r of all) {
        if (r.flag === 'N') expect([35, 80, 12.3, 45.6, 0]).toContain(r.value);
        else expect([r.flag, r.value]).toEqual(['B', null]);
      }
    }
    // The two damaged frames come one frame interval apart: wait for the second before counting.
    await until(() => g.pmSensors.get('pms1')!.counts.checksum >= 2, 'both checksum errors counted', 10_000);
    expect(g.pmSensors.get('pms1')!.counts.checksum).toBe(2);
  },
  30_000,
);
