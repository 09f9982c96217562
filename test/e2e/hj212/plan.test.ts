/**
 * `lantian check-config --plan` shows each HJ 212 platform's state, cursor and last answer as the
 * files on disk hold them: a real log and real state files written by the sessions the site
 * config describes, after they talked to the platform simulator. The log is only read.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { hj212SessionOptions } from '../../../gateway/src/uplink/hj212/from-config.js';
import { Hj212Session } from '../../../gateway/src/uplink/hj212/session.js';
import type { Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import { lantian } from '../../helpers/cli.js';
import { MN_CITY, MN_PROVINCE, startSitePlatforms, writeHj212Site } from '../../helpers/hj212-site.js';

const dir = mkdtempSync(join(tmpdir(), 'lantian-hj212-plan-'));
const platforms: Hj212Platform[] = [];
afterAll(async () => {
  for (const p of platforms) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CITY = 'timeoutS: 1, retries: 0';
const PROVINCE = 'registration: { dauId: 6970000000001ABCDEFG1234 }, timeoutS: 2';

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const minutes = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    device: 'stack1-uv',
    point: 'so2',
    period: 'minute' as const,
    start: Date.UTC(2026, 0, 1) + (from + i) * 60_000,
    min: 1,
    avg: 2,
    max: 3,
    count: 12,
    flag: 'N' as const,
  }));

/** Every file in the directory with a hash of its bytes. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort())
    out[f] = createHash('sha256')
      .update(readFileSync(join(dir, f)))
      .digest('hex');
  return out;
}

const platformLines = (stdout: string, name: string) => {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  uplink hj212 ${name}:`));
  expect(at).toBeGreaterThanOrEqual(0);
  return lines.slice(at + 1, at + 4).map((l) => l.trim());
};

// Each check starts the CLI through node, which takes seconds on a loaded machine.
describe('lantian check-config --plan with HJ 212 platforms', { timeout: 180_000 }, () => {
  it("prints each platform's state, cursor and last answer from the files on disk and changes none of them", async () => {
    const { city, province } = await startSitePlatforms();
    platforms.push(city, province);
    const site = {
      busPort: 1,
      city: city.port,
      province: province.port,
      cityExtra: CITY,
      provinceExtra: PROVINCE,
    };
    const file = writeHj212Site(dir, site);
    // The same site before its first start: no log, no state file (checked at the end).
    const fresh = writeHj212Site(dir, { ...site, storage: 'fresh/log.db', name: 'fresh.yaml' });

    // The sessions the gateway builds from this config, against the platform simulators.
    const loaded = loadSiteConfig(file);
    const log = openLog({ path: loaded.config.storage.path });
    const sessions = hj212SessionOptions(loaded).map(
      (o) => new Hj212Session(log, { ...o, reconnectMinMs: 50, reconnectMaxMs: 200, graceMs: 0 }),
    );
    for (const s of sessions) s.start();
    const [cityS, provinceS] = sessions as [Hj212Session, Hj212Session];
    log.appendAggregates(minutes(0, 3));
    await until(
      () => cityS.status().cursor === 3 && provinceS.status().cursor === 3,
      'both platforms at seq 3',
    );
    await city.down();
    log.appendAggregates(minutes(3, 2));
    await until(() => provinceS.status().cursor === 5, 'the province at seq 5');
    const set = await province.request('1062', 'RtdInterval=120');
    expect(set.exeRtn).toBe(1);

    // While a gateway holds the log, --plan says so and points nowhere else.
    const locked = await lantian(['check-config', file, '--plan']);
    expect(platformLines(locked.stdout, 'city')[2]).toMatch(/^cursor: cannot read the log: STORE_LOCKED: /);

    for (const s of sessions) await s.stop();
    log.close();
    const cityAnswer = cityS.status().lastAnswer!;
    const provinceAnswer = provinceS.status().lastAnswer!;
    expect(cityAnswer).toMatchObject({ cn: '9014', result: 'answered 2051' });
    expect(provinceAnswer).toMatchObject({ cn: '1062', result: 'QnRtn=1 ExeRtn=1' });

    const files = snapshot();
    const [r, before] = await Promise.all([
      lantian(['check-config', file, '--plan']),
      lantian(['check-config', fresh, '--plan']),
    ]);
    expect(before.code).toBe(0);
    expect(platformLines(before.stdout, 'city')).toEqual([
      `state: no state file yet (${join(dir, 'fresh/log.db.hj212-city.json')}): nothing set by the platform`,
      'last answer: none recorded',
      `cursor: no log yet (${join(dir, 'fresh/log.db')})`,
    ]);
    expect(r.code).toBe(0);
    const when = (ms: number) => new Date(ms).toISOString();
    expect(platformLines(r.stdout, 'city')).toEqual([
      `state (${join(dir, 'log.db.hj212-city.json')}): MN ${MN_CITY}`,
      `last answer: 9014 QN ${cityAnswer.qn} at ${when(cityAnswer.ts)}: answered 2051`,
      // seqs 4 and 5 came while the city was down; 6 is the province's config_change event
      "cursor: delivered through seq 3, 3 of the log's 6 seqs pending",
    ]);
    const [state, answer, cursor] = platformLines(r.stdout, 'province');
    expect(state).toMatch(
      new RegExp(
        `^state \\(.*hj212-province\\.json\\): MN ${MN_PROVINCE}, registered 20\\d\\d-.*Z, ` +
          'SM4 key configured, RtdInterval 120 s set by the platform$',
      ),
    );
    expect(answer).toBe(
      `last answer: 1062 QN ${provinceAnswer.qn} at ${when(provinceAnswer.ts)}: QnRtn=1 ExeRtn=1`,
    );
    expect(cursor).toBe("cursor: delivered through seq 6, 0 of the log's 6 seqs pending");
    // Read only: no file changed, none created or removed.
    expect(snapshot()).toEqual(files);
  });
});
