import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLantianError, type Problem } from '../../../gateway/src/core/index.js';
import { loadScenario, startSimulator } from '../../../hardware-sim/src/index.js';
import { FIXTURE_PROFILES } from '../../fixtures/sim/profiles.js';

const file = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/sim/scenarios/${name}`, import.meta.url));

async function problems(run: () => unknown, code: string): Promise<Problem[]> {
  try {
    await run();
  } catch (e) {
    expect(isLantianError(e), String(e)).toBe(true);
    if (!isLantianError(e)) return [];
    expect(e.code).toBe(code);
    return (e.context.problems as Problem[] | undefined) ?? [];
  }
  throw new Error('expected an error');
}

describe('scenario files', () => {
  it('loads a scenario with durations, relative and absolute times', () => {
    const s = loadScenario(file('engine.yaml'));
    expect(s.seed).toBe(42);
    expect(s.buses[1]!.line).toEqual({
      baud: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      checkSettings: false,
    });
    expect(s.buses[0]).toMatchObject({ host: '127.0.0.1', port: 0 });
    expect(s.faults[0]).toMatchObject({ at: { afterMs: 30_000 }, for: 5000, kind: 'no-answer' });
    expect(s.faults[1]!.at).toEqual({ atMs: Date.parse('2026-01-01T00:00:00Z') });
    const uv = s.devices[0]!;
    expect('profile' in uv && uv.schedule[0]).toMatchObject({
      state: 'calibration',
      daily: '03:00',
      for: 600_000,
    });
  });

  it('names file, path and line of a key the schema does not know', async () => {
    const [p] = await problems(() => loadScenario(file('unknown-key.yaml')), 'SIM_SCENARIO_INVALID');
    expect(p).toMatchObject({ file: file('unknown-key.yaml'), path: 'buses[0].speed', line: 4 });
  });

  it('reports schema mistakes and broken references together, each with the nearest valid name', async () => {
    const found = await problems(
      () => startSimulator(file('mixed-problems.yaml'), { profilesDir: FIXTURE_PROFILES }),
      'SIM_SCENARIO_INVALID',
    );
    expect(found.map((p) => [p.path, p.line, p.hint])).toEqual([
      ['buses[0].prot', 5, 'did you mean port?'],
      ['devices[0].profile', 8, 'did you mean fixture.cems-uv?'],
      ['devices[1].bus', 14, 'did you mean line?'],
      ['devices[2].unitt', 19, 'did you mean unit?'],
      ['faults[0].device', 21, 'did you mean dust?'],
    ]);
  });

  it('reports a missing file and broken YAML with their own codes', async () => {
    await problems(() => loadScenario(file('nothing-here.yaml')), 'SIM_SCENARIO_NOT_FOUND');
    await problems(() => loadScenario(file('bad-yaml.txt')), 'SIM_SCENARIO_YAML');
  });

  it('lists every broken cross-reference at once, each at its path', async () => {
    const found = await problems(
      () => startSimulator(file('broken-refs.yaml'), { profilesDir: FIXTURE_PROFILES }),
      'SIM_SCENARIO_INVALID',
    );
    expect(found.map((p) => p.path).sort()).toEqual(
      [
        'buses[1].name',
        'devices[0].profile',
        'devices[1].bus',
        'devices[2].points.pm25',
        'devices[2].points.dust',
        'devices[2].schedule[0].state',
        'devices[3].bus',
        'devices[3].bus',
        'faults[0].kind',
      ].sort(),
    );
    expect(found.every((p) => p.line !== undefined)).toBe(true);
  });

  it('starts the engine scenario, reading its CSV file relative to the scenario', async () => {
    const sim = await startSimulator(file('engine.yaml'), { profilesDir: FIXTURE_PROFILES });
    try {
      expect(sim.buses.map((b) => b.address)).toEqual([
        expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/),
        expect.stringMatching(/^rtu-tcp:\/\/127\.0\.0\.1:\d+$/),
      ]);
    } finally {
      await sim.stop();
    }
  });

  it('reports a CSV file that cannot be read and a column that is not there', async () => {
    await problems(
      () => startSimulator(file('missing-csv.yaml'), { profilesDir: FIXTURE_PROFILES }),
      'SIM_SCENARIO_NOT_FOUND',
    );
    const [p] = await problems(
      () => startSimulator(file('bad-column.yaml'), { profilesDir: FIXTURE_PROFILES }),
      'SIM_SCENARIO_INVALID',
    );
    expect(p?.path).toBe('devices[0].points.so2.csv');
  });
});
