import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APPENDIX_A_2017, WORKED } from '../../fixtures/hj212/packets.js';
import { lantian } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lantian-hj212-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

// Each test starts the CLI through tsx, which takes seconds on a loaded machine.
describe('lantian hj212', { timeout: 90_000 }, () => {
  it('parse prints one JSON object per packet, with the CRC variant found and coded errors for bad ones', async () => {
    const file = join(dir, 'packets.txt');
    const modbus =
      '##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&0759';
    writeFileSync(
      file,
      [
        APPENDIX_A_2017.replace('\r\n', '\\r\\n'),
        '',
        WORKED['split part 1 of 2']!.trimEnd(),
        modbus,
        APPENDIX_A_2017.replace('1C80', '1C08').trimEnd(),
      ].join('\n') + '\r\n',
    );
    const r = await lantian(['hj212', 'parse', file]);
    expect(r.code).toBe(2);
    const out = lines(r.stdout);
    expect(out.map((o) => [o.ok, o.line])).toEqual([
      [true, 1],
      [true, 3],
      [true, 4],
      [false, 5],
    ]);
    expect(out[0]).toMatchObject({
      cn: '1062',
      flag: 5,
      edition: 2017,
      answer: true,
      crc: 'hj212',
      cp: [{ RtdInterval: '30' }],
    });
    expect(out[1]).toMatchObject({
      pnum: 2,
      pno: 1,
      split: true,
      cp: [{ DataTime: '20240601080000' }, { 'a21026-Avg': '22.4' }],
    });
    expect(out[2]).toMatchObject({ crc: 'modbus' });
    expect(out[3]).toMatchObject({ code: 'HJ212_CRC', context: { expected: '1C80', found: '1C08' } });
  });

  it('parse reads stdin and exits 0 when every packet is good', async () => {
    const r = await lantian(['hj212', 'parse', '-'], APPENDIX_A_2017);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toMatchObject({ ok: true, qn: '20160801085857223' });
  });

  it('build turns a JSON description into the packet the standard shows', async () => {
    const description = {
      qn: '20160801085857223',
      st: '32',
      cn: '1062',
      pw: '100000',
      mn: '010000A8900016F000169DC0',
      answer: true,
      cp: [{ RtdInterval: '30' }],
    };
    const r = await lantian(['hj212', 'build'], JSON.stringify(description));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(APPENDIX_A_2017.replace('\r\n', '\\r\\n') + '\n');
    const raw = await lantian(['hj212', 'build', '--raw'], JSON.stringify(description));
    expect(raw.stdout).toBe(APPENDIX_A_2017);
  });

  it('build refuses a description that breaks the standard, naming the field', async () => {
    const r = await lantian(['hj212', 'build'], JSON.stringify({ st: '31', cn: '20a1', cp: [] }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HJ212_BUILD: CN:/);
  });
});
