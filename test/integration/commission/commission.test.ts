/**
 * `lantian commission` as an installer runs it, against real parts: the simulator's stack bus
 * over RTU-over-TCP with the dust monitor not answering (a fail) and the flue-gas unit in
 * maintenance (a warn), a real Mosquitto, a simulated HJ 212-2025 platform, a real SQLite log.
 * The JSON report is checked field by field; the HTML report is opened from disk in Debian's
 * chromium (playwright-core): a chart per point, no console errors, no network request.
 *
 * LANTIAN_WRITE_SCREENSHOTS=1 runs longer and also writes docs/images/commission-report.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import type { CommissionReport } from '../../../gateway/src/commission/index.js';
import { loadProfiles } from '../../../gateway/src/profiles/loader.js';
import { startHj212Platform, type Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { lantian, packageRoot, type CliRun } from '../../helpers/cli.js';
import { writeSimSite } from '../../helpers/sim-site.js';
import { launchChromium } from '../../helpers/browser.js';
import { requireTool } from '../../helpers/tools.js';

const screenshots = process.env.LANTIAN_WRITE_SCREENSHOTS === '1';
const DURATION_S = screenshots ? 20 : 4;
const MN = '010000A8900016F000169DC1';
const brokerTool = requireTool('mosquitto');
const browserTool = requireTool('chromium');

// The scenario's daily calibrations and timed faults are left out: the run must not depend on
// the hour of day it happens at.
const stack = withFreePorts(loadScenario('examples/sim/stack.yaml'));
// The silent dust monitor gets a line of its own, so its timeouts cannot hold up the others.
const scenario = {
  ...stack,
  faults: [],
  buses: [...stack.buses, { ...stack.buses[0]!, name: 'dust' }],
  devices: stack.devices.map((d) => ({
    ...d,
    schedule: [],
    ...(d.id === 'stack1-dust' ? { bus: 'dust' } : {}),
  })),
};

let dir: string;
let sim: Simulator | undefined;
let broker: MosquittoBroker | undefined;
let platform: Hj212Platform | undefined;
let file: string;
let run: CliRun;
let report: CommissionReport;
let runStartedAt: number;

beforeAll(async () => {
  if (!brokerTool.available) return;
  dir = mkdtempSync(join(tmpdir(), 'lantian-commission-'));
  broker = await startMosquitto();
  platform = await startHj212Platform({ edition: 2025, mn: MN, password: 'prov01' });
  sim = await startSimulator(scenario);
  sim.control.inject({ kind: 'no-answer', device: 'stack1-dust' });
  sim.control.setState('stack1-flue', 'maintenance', true);
  // A generous timeout: replies slowed down by a loaded test machine stay well inside it.
  file = writeSimSite(sim, scenario, dir, {
    periodMs: 1000,
    bus: { timeoutMs: 3000, retries: 0 },
    sections: {
      // A name with markup in it: the report must show it as text.
      gateway: { id: 'gw-commission', name: 'Stack 1 <cabinet> & "DTU"' },
      uplinks: {
        mqtt: { url: broker.url },
        hj212: {
          province: {
            host: '127.0.0.1',
            port: platform.port,
            version: 2025,
            mn: MN,
            password: { secret: 'province-password' },
            devices: ['stack1-uv'],
            registration: { dauId: 'DAU-COMMISSION-1' },
            timeoutS: 2,
          },
        },
      },
    },
    secrets: { 'province-password': 'prov01' },
  });
  runStartedAt = Date.now();
  run = await lantian([
    'commission',
    '--config',
    file,
    '--duration',
    `${DURATION_S}s`,
    '--out',
    join(dir, 'out'),
  ]);
  report = JSON.parse(readFileSync(join(dir, 'out/report.json'), 'utf8')) as CommissionReport;
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await platform?.stop();
  await broker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const measurementKeys = (profile: string) =>
  loadProfiles()
    .get(profile)
    .points.filter((p) => p.role === 'measurement')
    .map((p) => p.key);

const device = (id: string) => report.devices.find((d) => d.id === id)!;
const verdicts = (subject: string) =>
  Object.fromEntries(report.checks.filter((c) => c.subject === subject).map((c) => [c.check, c.verdict]));

brokerTool.describe('lantian commission against the simulated stack', () => {
  brokerTool.it('prints a verdict per check, exits 1 on the failing device and names the reports', () => {
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^fail {2}stack1-dust answers: 0\/\d+ requests answered \(0%\)/m);
    expect(run.stdout).toMatch(/^warn {2}stack1-flue flags: M \d+ \(maintenance\)/m);
    expect(run.stdout).toMatch(/^pass {2}stack1-uv answers: (\d+)\/\1 requests answered \(100%\)/m);
    expect(run.stdout).toMatch(/^FAIL: \d+ pass, \d+ warn, \d+ fail$/m);
    expect(run.stderr).toContain(`wrote ${join(dir, 'out/report.html')} and ${join(dir, 'out/report.json')}`);
  });

  brokerTool.it('writes the run, its verdicts and every check into report.json', () => {
    expect(report.format).toBe('lantian-commissioning/1');
    expect(report.site).toEqual({ id: expect.any(String), name: 'CEMS stack 1', timezone: 'Asia/Shanghai' });
    expect(report.gateway).toEqual({ id: 'gw-commission', name: 'Stack 1 <cabinet> & "DTU"' });
    expect(report.config).toBe(file);
    const started = Date.parse(report.startedAt);
    expect(started).toBeGreaterThanOrEqual(runStartedAt);
    expect(Date.parse(report.endedAt) - started).toBe(report.durationMs);
    expect(report.durationMs).toBeGreaterThanOrEqual(DURATION_S * 1000);
    expect(report.durationMs).toBeLessThan(DURATION_S * 1000 + 3000);
    expect(report.checks.map((c) => c.id)).toEqual([
      ...['stack1-uv', 'stack1-dust', 'stack1-flue'].flatMap((d) =>
        ['answers', 'range', 'flags', 'latency'].map((c) => `device:${d}:${c}`),
      ),
      'uplink:mqtt:delivery',
      'uplink:hj212 province:answers',
      'system:clock:sync',
      'system:disk:free',
    ]);
    expect(verdicts('stack1-uv')).toEqual({ answers: 'pass', range: 'pass', flags: 'pass', latency: 'pass' });
    expect(verdicts('stack1-dust')).toEqual({
      answers: 'fail',
      range: 'fail',
      flags: 'fail',
      latency: 'fail',
    });
    expect(verdicts('stack1-flue')).toEqual({
      answers: 'pass',
      range: 'pass',
      flags: 'warn',
      latency: 'pass',
    });
    expect(verdicts('mqtt')).toEqual({ delivery: 'pass' });
    expect(verdicts('hj212 province')).toEqual({ answers: 'pass' });
    // Clock and disk are this machine's: doctor's findings, whatever they are here.
    for (const id of ['system:clock:sync', 'system:disk:free'])
      expect(['pass', 'warn']).toContain(report.checks.find((c) => c.id === id)!.verdict);
    const counts = { pass: 0, warn: 0, fail: 0 };
    for (const c of report.checks) counts[c.verdict]++;
    expect(report.counts).toEqual(counts);
    expect(report.verdict).toBe('fail');
    expect(report.thresholds).toMatchObject({ answerRatePass: 0.99, answerRateWarn: 0.9 });
  });

  brokerTool.it(
    'reports the answering analyser with its profile, counters, latency and every reading',
    () => {
      const uv = device('stack1-uv');
      expect(uv).toMatchObject({
        profile: 'sdl.scs-900uv',
        bus: 'stack1',
        unitId: 1,
        periodMs: 1000,
        answerRate: 1,
      });
      expect(uv.requests).toBeGreaterThan(0);
      expect(uv.replies).toBe(uv.requests);
      expect(uv.polls).toBeGreaterThanOrEqual(2);
      expect(uv.failedPolls).toBe(0);
      expect(uv.latencyMs!.p50).toBeGreaterThan(0);
      expect(uv.latencyMs!.p99).toBeGreaterThanOrEqual(uv.latencyMs!.p50);
      expect(Object.keys(uv.flags)).toEqual(['N']);
      expect(uv.points.map((p) => p.key)).toEqual(measurementKeys('sdl.scs-900uv'));
      for (const p of uv.points) {
        expect(p.readings).toBeGreaterThan(0);
        expect(p.values).toBe(p.readings);
        expect(p.samples).toHaveLength(p.readings);
        expect(p.flags).toEqual({ N: p.readings });
        expect(p.outOfRange).toBe(0);
        for (const [ts, v, f] of p.samples) {
          expect(ts).toBeGreaterThanOrEqual(runStartedAt);
          expect(typeof v).toBe('number');
          expect(f).toBe('N');
        }
        expect(p.min).toBe(Math.min(...p.samples.map((s) => s[1]!)));
        expect(p.max).toBe(Math.max(...p.samples.map((s) => s[1]!)));
      }
      // The simulator's SO2 is a sine around 38 mg/m3 with an amplitude of 9 and a little noise.
      const so2 = uv.points.find((p) => p.key === 'so2')!;
      expect(so2).toMatchObject({ name: expect.any(String), unit: 'mg/m3' });
      expect(so2.min).toBeGreaterThan(25);
      expect(so2.max).toBeLessThan(51);
    },
  );

  brokerTool.it('reports the silent dust monitor as unanswered, its readings flagged B', () => {
    const dust = device('stack1-dust');
    expect(dust).toMatchObject({ profile: 'sdl.scs-900cpm', replies: 0, answerRate: 0, latencyMs: null });
    expect(dust.timeouts).toBeGreaterThan(0);
    expect(Object.keys(dust.flags)).toEqual(['B']);
    for (const p of dust.points) expect(p).toMatchObject({ values: 0, min: null, max: null, mean: null });
    expect(report.checks.find((c) => c.id === 'device:stack1-dust:range')!.detail).toBe(
      'no values to check against a range',
    );
  });

  brokerTool.it(
    'reports the flue-gas unit in maintenance with its values flagged M, all within range',
    () => {
      const flue = device('stack1-flue');
      expect(flue.answerRate).toBe(1);
      expect(flue.flags.M).toBeGreaterThan(0);
      expect(flue.flags.B ?? 0).toBe(0);
      expect(flue.points.map((p) => [p.key, p.range])).toEqual([
        ['velocity', [0, 40]],
        ['temperature', [0, 300]],
        ['pressure', [-10, 10]],
        ['humidity', [0, 40]],
      ]);
      for (const p of flue.points) expect(p.outOfRange).toBe(0);
    },
  );

  brokerTool.it(
    'counts what the broker acknowledged against what the log committed, and the platform’s answers',
    () => {
      expect(report.log.throughSeq).toBeGreaterThan(report.log.fromSeq);
      const readings = report.devices.flatMap((d) => d.points).reduce((n, p) => n + p.readings, 0);
      expect(report.log.readings).toBeGreaterThanOrEqual(readings);
      expect(report.uplinks.mqtt).toMatchObject({
        connected: true,
        committed: report.log.throughSeq - report.log.fromSeq,
        delivered: report.log.throughSeq - report.log.fromSeq,
        reconnects: 0,
        publishErrors: 0,
        refusedLogins: 0,
        fault: null,
      });
      expect(report.uplinks.hj212).toEqual([
        expect.objectContaining({ platform: 'province', state: 'connected', answered: true, resends: 0 }),
      ]);
      // The platform heard the registration: an independent witness of the answer counted.
      expect(platform!.received.some((p) => p.cn === '1001' && p.mn === MN)).toBe(true);
    },
  );

  browserTool.it(
    'writes an HTML report that draws a chart per point from inlined uPlot, with no network and no errors',
    async () => {
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const url = pathToFileURL(join(dir, 'out/report.html')).href;
        const requests: string[] = [];
        const errors: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url);
        const refs = report.devices.flatMap((d) => d.points.map((p) => `${d.id}/${p.key}`));
        expect(refs.length).toBeGreaterThan(8);
        await expect
          .poll(() => page.locator('.chart[data-rendered=true]').count(), { timeout: 10_000 })
          .toBe(refs.length);
        for (const ref of refs)
          expect(await page.locator(`figure[data-ref="${ref}"] canvas`).count(), ref).toBe(1);
        expect(errors).toEqual([]);
        expect(requests).toEqual([url]);
        await expect(page.locator('[data-testid=verdict]').textContent()).resolves.toBe('fail');
        // The gateway's name is text, not markup.
        await expect(page.locator('header p').first().textContent()).resolves.toContain(
          'Stack 1 <cabinet> & "DTU"',
        );
        expect(await page.locator('cabinet').count()).toBe(0);
        await expect(
          page.locator('tr[data-check="device:stack1-dust:answers"] .badge').textContent(),
        ).resolves.toBe('fail');
        if (screenshots) {
          mkdirSync(join(packageRoot, 'docs/images'), { recursive: true });
          await page.screenshot({
            path: join(packageRoot, 'docs/images/commission-report.png'),
            fullPage: true,
          });
        }
      } finally {
        await browser?.close();
      }
    },
    60_000,
  );
});
