import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flag } from '../../../gateway/src/core/flags.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { aggregate } from '../../../gateway/src/cli/commands/aggregate.js';
import { Processor } from '../../../gateway/src/processing/engine.js';
import { LiveProcessing } from '../../../gateway/src/processing/live.js';
import { processingPlan } from '../../../gateway/src/processing/plan.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { BEIJING_DAY, HOUR } from '../../unit/processing/helpers.js';

const CONFIG = 'examples/site.yaml';

/**
 * 70 minutes of the example stack, polled every 5 s: SO2 above its 200 mg/m3 hourly limit in
 * the first hour, a calibration from minute 20 to 23, the dust monitor silent (B) for 8 minutes.
 */
function stackReadings(): ReadingDraft[] {
  const out: ReadingDraft[] = [];
  const t0 = BEIJING_DAY + 9 * HOUR;
  for (let i = 0; i < 70 * 12; i++) {
    const ts = t0 + i * 5000;
    const m = Math.floor(i / 12);
    const gasFlag: Flag = m >= 20 && m < 23 ? 'C' : 'N';
    const so2 = m < 60 ? 180 + (i % 7) : 90; // 183 at 10.5 % O2 is 209 at 9 %
    const r = (device: string, point: string, value: number | null, flag: Flag = 'N') =>
      out.push({ ts, device, point, value, flag });
    r('stack1-gas', 'so2', so2, gasFlag);
    r('stack1-gas', 'nox', 120 + (i % 5), gasFlag);
    r('stack1-gas', 'o2', 10.5, gasFlag);
    const dustDown = m >= 40 && m < 48;
    r('stack1-dust', 'dust', dustDown ? null : 6.5, dustDown ? 'B' : 'N');
    r('stack1-flow', 'velocity', 12.4, 'N');
    r('stack1-flow', 'temperature', 48.5, 'N');
    r('stack1-flow', 'pressure', -0.25, 'N');
    r('stack1-flow', 'humidity', 8.5, 'N');
  }
  return out;
}

const key = (a: Record<string, unknown>) =>
  `${String(a.period)} ${String(a.start)} ${String(a.device)}/${String(a.point)}`;

describe('offline reprocessing (lantian aggregate)', () => {
  let tmp: TempDir;
  afterEach(() => tmp.remove());

  it('produces exactly what the live path wrote to the log, from the log’s own readings', async () => {
    tmp = tempDir('lantian-offline-');
    const loaded = loadSiteConfig(CONFIG);
    const log = openLog({ path: tmp.file('log.db') });
    const live = new LiveProcessing(new Processor(processingPlan(loaded.config, loaded.profiles)), log);
    live.rebuild(BEIJING_DAY);
    const readings = stackReadings();
    // one batch per device poll, committed then processed, as the gateway does
    for (let i = 0; i < readings.length; i += 4) {
      const batch = readings.slice(i, i + 4);
      log.append(batch);
      live.follow(batch[0]!.ts + 400);
    }
    live.tick(readings.at(-1)!.ts + 2 * 24 * HOUR); // the clock runs on: every period closes
    const records = log.read(0, 1_000_000);
    log.close();

    const input = tmp.file('readings.jsonl');
    writeFileSync(
      input,
      records
        .filter((r) => r.type === 'reading')
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await aggregate({ config: CONFIG, from: input }, { out: (l) => out.push(l), err: (l) => err.push(l) }),
    ).toBe(0);
    const offline = out.map((l) => JSON.parse(l) as Record<string, unknown>);

    const strip = ({ seq: _s, type: _t, ...rest }: object & { seq?: unknown; type?: unknown }) =>
      rest as Record<string, unknown>;
    const liveAggs = records.filter((r) => r.type === 'aggregate').map((r) => strip(r));
    const offAggs = offline.filter((r) => r.type === 'aggregate').map(strip);
    expect(offAggs).toHaveLength((70 + 2 + 1) * 9); // 8 measured series and the flow: 70 minutes, 2 hours, 1 day
    expect(offAggs.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      liveAggs.sort((a, b) => key(a).localeCompare(key(b))),
    );
    const liveEvents = records.filter((r) => r.type === 'event').map((r) => strip(r));
    const offEvents = offline.filter((r) => r.type === 'event').map(strip);
    expect(offEvents).toEqual(liveEvents);
    expect(offEvents.map((e) => [e.kind, (e.payload as { state: string }).state])).toEqual([
      ['calibration', 'started'],
      ['calibration', 'ended'],
      ['alarm', 'raised'],
      ['exceedance', 'raised'],
    ]);
    expect(offEvents[1]!.payload).toMatchObject({ device: 'stack1-gas', durationS: 180 });
    // the calibration minutes are flagged C and left out of the hour
    const so2Hour = offAggs.find(
      (a) => a.period === 'hour' && a.point === 'so2' && a.device === 'stack1-gas',
    )!;
    expect(so2Hour).toMatchObject({ count: 57, inputs: 60, flag: 'N', outlet: 'stack1', hj212: 'a21026' });
    expect(
      offAggs.filter((a) => a.period === 'minute' && a.device === 'stack1-dust' && a.flag === 'B'),
    ).toHaveLength(8);
    expect(err.at(-1)).toMatch(/^6720 readings -> \d+ aggregates, 4 events \(0 late readings\)$/);
  });

  it('names the line of a bad input and exits 2, from the real command line', async () => {
    tmp = tempDir('lantian-offline-');
    const input = tmp.file('bad.jsonl');
    writeFileSync(
      input,
      '{"ts":1,"device":"stack1-gas","point":"so2","value":1,"flag":"N"}\n{"ts":2,"device":"stack1-gas","point":"so2","value":1,"flag":"X"}\n',
    );
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['bin/lantian.js', 'aggregate', '--config', CONFIG, '--from', input],
        { timeout: 60_000 },
        (e, _o, stderr) => resolve({ code: e ? Number(e.code) : 0, stderr }),
      ),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${input}:2: flag must be an HJ 212 flag`);
  }, 90_000);
});
