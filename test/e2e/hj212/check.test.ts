/**
 * `lantian hj212 check CONFIG` (and `lantian init`, which runs the same test): one heartbeat to
 * each HJ 212 platform of a config, against the platform simulator; ok / fail with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import { lantian } from '../../helpers/cli.js';
import { PROVINCE_KEY, startSitePlatforms, writeHj212Site } from '../../helpers/hj212-site.js';

const dir = mkdtempSync(join(tmpdir(), 'lantian-hj212-check-'));
const platforms: Hj212Platform[] = [];
afterAll(async () => {
  for (const p of platforms) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

// Each check starts the CLI through node, which takes seconds on a loaded machine.
describe('lantian hj212 check', { timeout: 180_000 }, () => {
  it('reports each platform reachable when it answers the heartbeat, and the reason when it does not', async () => {
    const { city, province } = await startSitePlatforms();
    platforms.push(city, province);
    const good = writeHj212Site(dir, { busPort: 1, city: city.port, province: province.port });
    const badDir = mkdtempSync(join(dir, 'bad-'));
    const bad = writeHj212Site(badDir, { busPort: 1, city: await closedPort(), province: province.port });
    // The province's password in the second site is wrong: the platform drops its packets unanswered.
    writeFileSync(
      join(badDir, 'secrets.yaml'),
      `city-pw: 'city01'\nprov-pw: 'wrong1'\nprov-sm4: '${PROVINCE_KEY}'\n`,
      { mode: 0o600 },
    );

    const [ok, failed] = await Promise.all([
      lantian(['hj212', 'check', good]),
      lantian(['hj212', 'check', bad, '--timeout-ms', '1500']),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(
        `^hj212 city 127\\.0\\.0\\.1:${city.port}: answered the heartbeat \\(9013\\) in \\d+ ms$`,
        'm',
      ),
    );
    expect(ok.stdout).toMatch(
      new RegExp(
        `^hj212 province 127\\.0\\.0\\.1:${province.port}: answered the heartbeat \\(9013\\) in \\d+ ms$`,
        'm',
      ),
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^hj212 city 127\.0\.0\.1:\d+: cannot reach the platform: .*ECONNREFUSED/m);
    expect(failed.stderr).toContain(
      `hj212 province 127.0.0.1:${province.port}: cannot reach the platform: connected, but no 9013 to the heartbeat within 1500 ms: check the MN, PW and SM4 key`,
    );
    // Only heartbeats reached the platforms: nothing uploaded, and the wrong PW was refused.
    expect([...city.received, ...province.received].map((p) => p.cn)).toEqual(['9015', '9015']);
    expect(province.refused.map((r) => r.reason)).toEqual(['pw']);
  });
});
