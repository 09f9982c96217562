import { describe, expect, it } from 'vitest';
import { checkSiteConfig, type ConfigProblem } from '../../../gateway/src/config/index.js';
import { edited, profiles, useTempDir, writeSite } from './helpers.js';

const tempDir = useTempDir();
const problemsOf = (config: unknown): ConfigProblem[] =>
  checkSiteConfig(writeSite(tempDir(), config), { profiles });
const at = (problems: ConfigProblem[], path: string) => problems.find((p) => p.path === path);

describe('hints for a misspelt key', () => {
  it('offer only the keys valid at that place: storage.paht is path, not port', () => {
    const problems = problemsOf(edited({ 'storage.paht': 'log.db', 'storage.path': undefined }));
    expect(at(problems, 'storage.paht')!.hint).toBe('did you mean path?');
  });

  it('find the key of the bus, the device and its overrides where the misspelling is', () => {
    const problems = problemsOf(
      edited({
        'buses.line1.prot': 20108,
        'devices.gas.overrides': { minGap: 40 },
        'uplinks.mqtt.batch.linger': 10,
      }),
    );
    expect(at(problems, 'buses.line1.prot')!.hint).toBe('did you mean port?');
    expect(at(problems, 'devices.gas.overrides.minGap')!.hint).toBe('did you mean minGapMs?');
    expect(at(problems, 'uplinks.mqtt.batch.linger')!.hint).toBe('did you mean lingerMs?');
  });

  it('list the keys of a small section when none is near', () => {
    const problems = problemsOf(edited({ 'storage.compress': true }));
    expect(at(problems, 'storage.compress')!.hint).toBe('keys here: path, quotaMb, retentionDays');
  });
});

describe('line settings written the short way', () => {
  it('say which word to write for parity N, E and O', () => {
    for (const [letter, word] of [
      ['N', 'none'],
      ['E', 'even'],
      ['o', 'odd'],
      ['Even', 'even'],
    ]) {
      const problems = problemsOf(edited({ 'buses.line1.parity': letter }));
      expect(problems.map((p) => [p.path, p.message])).toEqual([['buses.line1.parity', `write ${word}`]]);
    }
  });

  it('spell out 8N1 framing as the keys to use, wherever it was written', () => {
    const asKey = problemsOf(edited({ 'buses.line1.format': '8N1' }));
    expect(at(asKey, 'buses.line1.format')!.hint).toBe('write 8N1 as dataBits: 8, parity: none, stopBits: 1');
    const inBaud = problemsOf(edited({ 'buses.line1.baud': '9600 8E1' }));
    expect(at(inBaud, 'buses.line1.baud')!.message).toBe(
      'write 9600 8E1 as baud: 9600, dataBits: 8, parity: even, stopBits: 1',
    );
    const inParity = problemsOf(edited({ 'buses.line1.parity': '8O2' }));
    expect(at(inParity, 'buses.line1.parity')!.message).toBe(
      'write 8O2 as dataBits: 8, parity: odd, stopBits: 2',
    );
  });

  it('keep the plain message for values that are no line setting at all', () => {
    const problems = problemsOf(edited({ 'buses.line1.parity': 'mark' }));
    expect(at(problems, 'buses.line1.parity')!.message).toBe('parity is none, even or odd');
  });
});

describe('YAML syntax errors', () => {
  const yamlLines = (text: string) =>
    checkSiteConfig(writeSite(tempDir(), text), { profiles }).map((p) => [p.code, p.line, p.hint]);

  it('name the line of a bracket that is never closed, not where the parser gave up', () => {
    const text = 'version: 1\nsite:\n  id: a\n  name: [unclosed\ngateway:\n  id: gw\nbuses: {}\n';
    expect(yamlLines(text)).toEqual([['CONFIG_YAML', 4, 'opened here and never closed (noticed at line 5)']]);
    const flowMap = 'version: 1\nsite: { id: a, name: b\ngateway:\n  id: gw\n';
    expect(yamlLines(flowMap)[0]!.slice(0, 2)).toEqual(['CONFIG_YAML', 2]);
  });

  it('name the line of a quote that is never closed', () => {
    const text = 'version: 1\nsite:\n  id: "a\ngateway:\n  id: gw\nbuses: {}\n';
    expect(yamlLines(text)).toEqual([['CONFIG_YAML', 3, 'opened here and never closed (noticed at line 7)']]);
  });

  it('name the over-indented line that runs on from the one above', () => {
    const text = 'version: 1\nsite:\n  id: a\n   name: b\ngateway:\n  id: gw\n';
    const lines = yamlLines(text);
    expect(lines).toContainEqual([
      'CONFIG_YAML',
      4,
      'line 4 is indented further than line 3 and runs on from it: check its indentation',
    ]);
  });

  it('keep the line the parser gives where it is already right', () => {
    expect(yamlLines('version: 1\nsite:\n  id: a\n  id: b\n')).toEqual([['CONFIG_YAML', 4, undefined]]);
    expect(yamlLines('version: 1\nsite:\n\tid: a\n')).toEqual([['CONFIG_YAML', 3, undefined]]);
  });
});
