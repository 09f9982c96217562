/**
 * The local web page against real parts: the simulator's stack bus over RTU-over-TCP, the
 * gateway built from a site config with a `web` section, a real SQLite log, and Debian's
 * chromium driven by playwright-core on a phone-sized screen.
 *
 * LANTIAN_WRITE_SCREENSHOTS=1 also writes docs/images/web.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway } from '../../../gateway/src/gateway.js';
import {
  loadScenario,
  startSimulator,
  withFreePorts,
  type Simulator,
} from '../../../hardware-sim/src/index.js';
import { packageRoot } from '../../helpers/cli.js';
import { writeSimSite } from '../../helpers/sim-site.js';
import { launchChromium } from '../../helpers/browser.js';
import { requireTool } from '../../helpers/tools.js';

const browserTool = requireTool('chromium');
const PASSWORD = 'correct-horse-7';

let dir: string;
let sim: Simulator;
let gateway: Gateway;
let url: string;
const scenario = withFreePorts(loadScenario('examples/sim/stack.yaml'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-web-'));
  sim = await startSimulator(scenario);
  const file = writeSimSite(sim, scenario, dir, {
    sections: {
      gateway: { id: 'gw-web', name: 'Stack 1 gateway' },
      web: { host: '127.0.0.1', port: 0, password: { secret: 'web-password' } },
    },
    secrets: { 'web-password': PASSWORD },
  });
  gateway = new Gateway(loadSiteConfig(file));
  gateway.start();
  url = (await gateway.webUrl)!;
}, 30_000);

afterAll(async () => {
  await gateway?.stop(0);
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local web page', () => {
  it('refuses a request without credentials or with wrong ones, and answers the password', async () => {
    for (const path of ['/', '/api/state', '/api/stream', '/app.js']) {
      const bare = await fetch(url + path);
      expect(bare.status, path).toBe(401);
      expect(bare.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const wrong = await fetch(url + '/api/state', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const basic = 'Basic ' + Buffer.from(`anyone:${PASSWORD}`).toString('base64');
    const state = (await (await fetch(url + '/api/state', { headers: { authorization: basic } })).json()) as {
      devices: { id: string; points: { key: string; unit: string }[] }[];
    };
    expect(state.devices.map((d) => d.id)).toEqual(['stack1-uv', 'stack1-dust', 'stack1-flue']);
    expect(state.devices[0]!.points.find((p) => p.key === 'so2')?.unit).toBe('mg/m3');
    // Read-only: nothing but GET exists.
    const post = await fetch(url + '/api/state', { method: 'POST', headers: { authorization: basic } });
    expect(post.status).toBe(404);
  });

  browserTool.it(
    'shows live values with units and flags on a phone screen, updates them without reloading, and shows an alarm',
    async () => {
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        const context = await browser.newContext({
          viewport: { width: 390, height: 844 },
          deviceScaleFactor: 2,
          httpCredentials: { username: 'installer', password: PASSWORD },
        });
        const page = await context.newPage();
        await page.goto(url);
        const so2 = page.locator('[data-ref="stack1-uv/so2"]');
        await expect
          .poll(() => so2.locator('[data-testid=value]').textContent(), { timeout: 15_000 })
          .toMatch(/^\d/);
        await expect(so2.textContent()).resolves.toContain('mg/m3');
        await expect(so2.locator('.badge').textContent()).resolves.toBe('N');
        await expect.poll(() => page.locator('[data-testid=connection]').textContent()).toBe('live');

        // A marker on the window survives only if the page is never reloaded.
        await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
        sim.control.setPoint('stack1-uv', 'so2', 123.4);
        await expect
          .poll(() => so2.locator('[data-testid=value]').textContent(), { timeout: 15_000 })
          .toBe('123.4');
        await expect.poll(() => so2.locator('svg polyline').count(), { timeout: 10_000 }).toBe(1);

        // The flue unit reports a fault: its values turn D and the alarm list says so.
        sim.control.setState('stack1-flue', 'fault', true);
        const alarms = page.locator('[data-testid=alarms] li.alarm');
        await expect
          .poll(() => alarms.allTextContents(), { timeout: 15_000 })
          .toContainEqual(expect.stringMatching(/^stack1-flue\/velocity: instrument fault \(D\)$/));
        await expect(page.evaluate(() => (globalThis as unknown as { marker: number }).marker)).resolves.toBe(
          42,
        );
        // Bus and uplink status arrive by push too.
        await expect
          .poll(() => page.locator('#buses td').first().textContent(), { timeout: 10_000 })
          .toBe('stack1');

        if (process.env.LANTIAN_WRITE_SCREENSHOTS === '1') {
          mkdirSync(join(packageRoot, 'docs/images'), { recursive: true });
          await page.screenshot({ path: join(packageRoot, 'docs/images/web.png'), fullPage: true });
        }
      } finally {
        await browser?.close();
      }
    },
    60_000,
  );
});
