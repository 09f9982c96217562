/**
 * How many of its newest readings the gateway's log holds in memory (`recentRowsFor`): a minute of
 * the site's polling, between RECENT_MIN_ROWS and RECENT_ROWS, and two polls of every point more.
 * A small site keeps a ring of a few thousand rows, not the 32 768 that a saturated gateway's
 * admission bound needs (docs/store.md, "Reading what was just committed").
 */
import { describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { Gateway, plannedLoad, recentRowsFor } from '../../../gateway/src/gateway.js';
import { processingPlan } from '../../../gateway/src/processing/plan.js';
import { RECENT_ROWS } from '../../../gateway/src/store/index.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';
import { edited, profiles, useTempDir, writeSite } from '../config/helpers.js';

const tempDir = useTempDir();
const loaded = (changes: Record<string, unknown>) =>
  loadSiteConfig(writeSite(tempDir(), edited(changes)), { profiles });

describe('the recent rows a gateway keeps', () => {
  it('counts the readings a second the polling plan asks for, disabled devices left out', () => {
    // The UV analyser polls 8 points (3 status, 5 gases); the dust monitor's period is 5 s.
    const base = loaded({ 'devices.gas.periodMs': 2000 });
    const dust = plannedLoad(base).readingsPerSec - 8 / 2;
    expect(dust).toBeGreaterThan(0);
    expect(plannedLoad(loaded({ 'devices.gas.periodMs': 500 })).readingsPerSec).toBeCloseTo(
      8 / 0.5 + dust,
      9,
    );
    expect(
      plannedLoad(
        loaded({
          'devices.gas.periodMs': 2000,
          'devices.late': { profile: 'sdl.scs-900cpm', bus: 'line1', unitId: 9, enabled: false },
        }),
      ).readingsPerSec,
    ).toBeCloseTo(8 / 2 + dust, 9);
  });

  it('holds a minute of polling, at least 2 048 rows and at most RECENT_ROWS, plus two polls of every point', () => {
    expect(recentRowsFor(30, 30)).toBe(2048 + 60);
    expect(recentRowsFor(300, 300)).toBe(18_000 + 600);
    expect(recentRowsFor(1000, 1000)).toBe(RECENT_ROWS + 2000);
    expect(recentRowsFor(30_000, 300_000)).toBe(RECENT_ROWS + 60_000);
    // From about 550 readings/s on, a site has the whole ring.
    expect(recentRowsFor(0, 547)).toBe(RECENT_ROWS);
    expect(recentRowsFor(0, 546)).toBeLessThan(RECENT_ROWS);
  });

  it("is what the gateway's log holds: a small site keeps a few thousand rows, not RECENT_ROWS", async () => {
    const site = loaded({});
    const rows = recentRowsFor(
      processingPlan(site.config, site.profiles).series.length,
      plannedLoad(site).readingsPerSec,
    );
    expect(rows).toBeLessThan(3000);
    const gateway = new Gateway(site);
    try {
      const log = gateway.log;
      log.append(syntheticBatch(0, 3000));
      // Take the rows from under the log: what it still reads comes from its memory.
      log.database.prepare('DELETE FROM readings').run();
      const last = log.lastSeq;
      expect(log.read(last - rows, 5000)).toHaveLength(rows);
      expect(log.read(last - rows - 1, 5000)).toEqual([]);
    } finally {
      await gateway.stop();
    }
  });
});
