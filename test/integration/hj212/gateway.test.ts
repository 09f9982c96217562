/**
 * The composition root with two HJ 212 platforms from the site config: a 2017 city platform
 * and a 2025 provincial one with SM4. The simulator's stack bus feeds both; an outage of the
 * city platform holds back neither the province nor the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import { startHj212Platform, type Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { MN_CITY, MN_PROVINCE, PROVINCE_KEY as KEY, writeHj212Site } from '../../helpers/hj212-site.js';

let dir: string;
let sim: Simulator;
let city: Hj212Platform;
let province: Hj212Platform;
let gateway: Gateway | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-hj212-gw-'));
  sim = await startSimulator(withFreePorts(loadScenario('examples/sim/stack.yaml')));
  city = await startHj212Platform({ mn: MN_CITY, password: 'city01' });
  province = await startHj212Platform({
    mn: MN_PROVINCE,
    password: 'prov01',
    edition: 2025,
    sm4Key: Buffer.from(KEY),
  });
});

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await city.stop();
  await province.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(): string {
  return writeHj212Site(dir, {
    busPort: sim.buses[0]!.port!,
    city: city.port,
    province: province.port,
    cityExtra: 'timeoutS: 2',
    provinceExtra: 'heartbeatS: 10, timeoutS: 2',
  });
}

describe('the gateway with HJ 212 platforms', () => {
  it('feeds a 2017 and an SM4 2025 platform from the log, each behind its own cursor', async () => {
    gateway = new Gateway(loadSiteConfig(config()));
    gateway.start();
    const g = gateway;
    const t0 = Date.UTC(2026, 0, 1);
    const aggregates = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        device: 'stack1-uv',
        point: 'so2',
        period: 'minute' as const,
        start: t0 + i * 60_000,
        min: 1,
        avg: 2 + i,
        max: 3 + i,
        count: 12,
        flag: 'N' as const,
      }));
    // Minute data enter the log as the processing stage would append them.
    g.log.appendAggregates(aggregates(3));
    const minuteOf = (p: Hj212Platform) => p.received.filter((x) => x.cn === '2051');
    const waitMinutes = async (p: Hj212Platform, n: number) => {
      const end = Date.now() + 20_000;
      while (minuteOf(p).length < n) {
        if (Date.now() > end) throw new Error(`only ${minuteOf(p).length} minute packets`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitMinutes(city, 3);
    await waitMinutes(province, 3);
    expect(minuteOf(city).every((x) => !x.encrypted && x.flag === 5)).toBe(true);
    expect(minuteOf(province).every((x) => x.encrypted && x.flag === 9)).toBe(true);
    expect(minuteOf(province).map((x) => x.fields.get('a21026-Avg'))).toEqual(['2', '3', '4']);

    await city.down();
    g.log.appendAggregates(aggregates(6).slice(3));
    await waitMinutes(province, 6);
    expect(minuteOf(city).length).toBe(3);
    await city.up();
    await waitMinutes(city, 6);
    expect(minuteOf(city).map((x) => x.fields.get('DataTime'))).toEqual([
      '20260101080000',
      '20260101080100',
      '20260101080200',
      '20260101080300',
      '20260101080400',
      '20260101080500',
    ]);
    const r = await province.request('1061');
    expect(r.data[0]?.fields.get('RtdInterval')).toBe('60');
    const status = g.hj212.get('city')!.status();
    expect(status).toMatchObject({ platform: 'city', state: 'connected' });
  }, 60_000);
});
