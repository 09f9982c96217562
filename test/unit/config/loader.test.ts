import { chmodSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  checkSiteConfig,
  formatConfigProblem,
  loadSiteConfig,
  type ConfigProblem,
} from '../../../gateway/src/config/index.js';
import { BROKEN_SECRETS_PATHS, BROKEN_SITE_PATHS } from '../../fixtures/config/broken/expected.js';
import {
  edited,
  fixtures,
  minimalConfig,
  plannedSections,
  profiles,
  profilesDir,
  SECRETS,
  thrownBy,
  useTempDir,
  writeSite,
} from './helpers.js';

const tempDir = useTempDir();

function problemsOf(config: unknown, secrets?: Record<string, unknown>): ConfigProblem[] {
  return checkSiteConfig(writeSite(tempDir(), config, secrets), { profiles });
}
/** Errors other than "not supported yet" refusals, which unsupported.test.ts covers. */
const errorPaths = (ps: ConfigProblem[]) =>
  ps.filter((p) => p.severity === 'error' && p.code !== 'CONFIG_UNSUPPORTED').map((p) => p.path);
/** The minimal config with an outlet and an HJ 212 platform, then these changes. */
const planned = (changes: Record<string, unknown> = {}) => edited({ ...plannedSections(), ...changes });

const loadError = (file: string, options = {}) =>
  thrownBy(() => loadSiteConfig(file, { profiles, ...options }));

describe('loading a site config', () => {
  it('refuses an acquisition thread on a site with a serial line, and takes it over TCP', () => {
    const serial = { kind: 'serial', port: '/dev/ttyUSB0', baud: 9600 };
    const refused = problemsOf(edited({ 'gateway.acquisitionThread': true, 'buses.line1': serial }));
    expect(refused.filter((p) => p.severity === 'error')).toEqual([
      expect.objectContaining({
        path: 'gateway.acquisitionThread',
        message: expect.stringContaining('bus line1 is a serial line'),
      }),
    ]);
    expect(errorPaths(problemsOf(edited({ 'gateway.acquisitionThread': true })))).toEqual([]);
    expect(errorPaths(problemsOf(edited({ 'buses.line1': serial })))).toEqual([]);
  });

  it('loads a valid config with defaults applied and relative paths made absolute', () => {
    const dir = tempDir();
    const loaded = loadSiteConfig(writeSite(dir, minimalConfig()), { profiles });
    expect(loaded.warnings).toEqual([]);
    const c = loaded.config;
    expect(c.devices.gas!.periodMs).toBe(5000);
    expect(c.devices.gas!.enabled).toBe(true);
    expect(c.buses.line1).toMatchObject({ baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, retries: 1 });
    expect(c.uplinks.mqtt!.topicRoot).toBe('lantian/v1');
    expect(c.uplinks.hj212).toEqual({});
    expect(c.outlets).toEqual({});
    expect(c.storage.path).toBe(join(dir, 'data/log.db'));
    expect(isAbsolute(c.storage.path)).toBe(true);
    expect(loaded.secrets.reveal({ secret: 'mqtt-pw' })).toBe('change-me');
  });

  it('reports every problem of a broken file, each with its path and line', () => {
    const file = join(fixtures, 'broken/site.yaml');
    const problems = checkSiteConfig(file, { profilesDir });
    const paths = errorPaths(problems);
    expect(paths).toEqual([...BROKEN_SITE_PATHS, ...BROKEN_SECRETS_PATHS]);
    for (const p of problems.filter((x) => x.file === file)) expect(p.line, p.path).toBeGreaterThan(0);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    expect(byPath.get('devices.gas.profile')!.hint).toContain('sdl.scs-900uv');
    expect(byPath.get('devices.dust.bus')!.hint).toContain('dtu');
    expect(byPath.get('devices.weather.overrides.points.pm2_5')!.hint).toContain('pm25');
    expect(byPath.get('uplinks.mqtt.password.secret')!.code).toBe('CONFIG_SECRET_MISSING');
  });

  it('prints problems as FILE:PATH: message with the line and hint', () => {
    const [p] = problemsOf(edited({ 'devices.gas.profile': 'sdl.scs-900u' }));
    expect(formatConfigProblem(p!)).toMatch(
      /site\.yaml:devices\.gas\.profile: .+ \(line \d+; hint: did you mean sdl\.scs-900uv\?\)$/,
    );
  });

  it('throws CONFIG_INVALID with every problem in context.problems', () => {
    const file = writeSite(tempDir(), edited({ 'devices.gas.bus': 'nope', 'devices.dust.unitId': 300 }));
    const e = loadError(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(errorPaths(e.context.problems as ConfigProblem[])).toEqual([
      'devices.gas.bus',
      'devices.dust.unitId',
    ]);
  });

  it('throws CONFIG_SECRET_MISSING when the only problem is a missing secret', () => {
    const file = writeSite(tempDir(), minimalConfig(), { 'other-pw': 'abcdef' });
    const e = loadError(file);
    expect(e.code).toBe('CONFIG_SECRET_MISSING');
  });

  it('throws CONFIG_NOT_FOUND and CONFIG_YAML for a missing or malformed file', () => {
    const dir = tempDir();
    expect(loadError(join(dir, 'absent.yaml')).code).toBe('CONFIG_NOT_FOUND');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nsite: [unclosed\n');
    expect(loadError(bad).code).toBe('CONFIG_YAML');
  });

  it('asks for a version when the file has none', () => {
    const problems = problemsOf(edited({ version: undefined }));
    expect(problems.map((p) => [p.path, p.message])).toEqual([['version', 'required']]);
  });

  it('suggests the nearest option name for a misspelt key', () => {
    const [p] = problemsOf(edited({ 'devices.gas.perodMs': 1000 }));
    expect([p!.path, p!.hint]).toEqual(['devices.gas.perodMs', 'did you mean periodMs?']);
  });

  it("checks the site I/O block: pins used once, relays off the contacts' ports, units spelt the canonical way", () => {
    const problems = problemsOf(
      edited({
        siteIo: {
          board: { port: '/dev/ttyACM0' },
          analogInputs: { dust: { pin: 'A0', range: [0, 10], unit: 'mg/Nm3' } },
          dryContacts: { door: { pin: 7 } },
          relays: { spray: { pin: 7 }, fog: { pin: 8, failSafe: 'on' } },
        },
      }),
    );
    expect(problems.filter((p) => p.code !== 'CONFIG_UNSUPPORTED').map((p) => [p.path, p.message])).toEqual([
      ['siteIo.analogInputs.dust.unit', 'write mg/m3'],
      ['siteIo.relays.spray.pin', 'pin 7 is also dryContacts.door'],
      [
        'siteIo.relays.spray.pin',
        'pin 7 is on the same port (pins 0-7) as dry contact door; put relays and contacts on different ports',
      ],
    ]);
  });

  it('checks that an analyzer contact names a known device and a linkage a known point', () => {
    const problems = problemsOf(
      edited({
        siteIo: {
          board: { port: '/dev/ttyACM0' },
          dryContacts: {
            cal: { pin: 2, role: 'calibration' },
            maint: { pin: 3, role: 'maintenance', device: 'nope' },
          },
          relays: { fog: { pin: 8, linkage: { point: 'ghost/pm10', onAbove: 150, offBelow: 100 } } },
        },
      }),
    );
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ['siteIo.dryContacts.cal.device', 'a calibration contact names the analyzer it flags'],
      ['siteIo.dryContacts.maint.device', 'no device "nope"'],
      ['siteIo.relays.fog.linkage.point', 'no device "ghost"'],
    ]);
  });

  it('checks unit ids against the kind of bus', () => {
    const serialZero = problemsOf(edited({ 'devices.gas.unitId': 0 }));
    expect(errorPaths(serialZero)).toEqual(['devices.gas.unitId']);
    const tcpZero = problemsOf(
      edited({ 'buses.line1': { kind: 'tcp', host: '127.0.0.1' }, 'devices.gas.unitId': 0 }),
    );
    expect(errorPaths(tcpZero)).toEqual([]);
  });

  it('takes requests in flight on a Modbus TCP bus only, within 1-16', () => {
    const tcp = { kind: 'tcp', host: '127.0.0.1' };
    const dir = tempDir();
    const loaded = loadSiteConfig(writeSite(dir, edited({ 'buses.line1': { ...tcp, maxInFlight: 8 } })), {
      profiles,
    });
    expect(loaded.config.buses.line1).toMatchObject({ kind: 'tcp', maxInFlight: 8 });
    const byDefault = loadSiteConfig(writeSite(tempDir(), edited({ 'buses.line1': tcp })), { profiles });
    expect(byDefault.config.buses.line1).toMatchObject({ maxInFlight: 1 });
    expect(errorPaths(problemsOf(edited({ 'buses.line1': { ...tcp, maxInFlight: 17 } })))).toEqual([
      'buses.line1.maxInFlight',
    ]);
    // A serial line or a transparent device server carries one transaction at a time.
    const rtuTcp = { kind: 'rtu-over-tcp', host: '127.0.0.1', port: 4001, maxInFlight: 4 };
    const refused = problemsOf(edited({ 'buses.line1': rtuTcp }));
    expect(errorPaths(refused)).toEqual(['buses.line1.maxInFlight']);
    expect(refused.find((p) => p.path === 'buses.line1.maxInFlight')).toMatchObject({
      message: 'unknown key',
      hint: 'maxInFlight is not an option of kind rtu-over-tcp',
    });
    expect(errorPaths(problemsOf(edited({ 'buses.line1.maxInFlight': 2 })))).toEqual([
      'buses.line1.maxInFlight',
    ]);
  });

  it('reports a unit id used twice on one bus, but not on two buses or for a disabled device', () => {
    expect(errorPaths(problemsOf(edited({ 'devices.dust.unitId': 1 })))).toEqual(['devices.dust.unitId']);
    expect(
      errorPaths(problemsOf(edited({ 'devices.dust.unitId': 1, 'devices.dust.enabled': false }))),
    ).toEqual([]);
    const twoBuses = edited({
      'buses.line2': { kind: 'serial', port: '/dev/ttyUSB0' },
      'devices.dust.unitId': 1,
      'devices.dust.bus': 'line2',
    });
    expect(errorPaths(problemsOf(twoBuses))).toEqual([]);
  });

  it('refuses two buses on one serial port', () => {
    const problems = problemsOf(
      edited({
        'buses.a': { kind: 'serial', port: '/dev/ttyUSB0' },
        'buses.b': { kind: 'serial', port: '/dev/ttyUSB0' },
        'devices.dust.bus': 'a',
        'devices.gas.bus': 'b',
      }),
    );
    expect(errorPaths(problems)).toEqual(['buses.b.port']);
  });

  it('warns when a profile leaves the factory at other line settings than the bus', () => {
    const problems = problemsOf(edited({ 'buses.line1.baud': 19200 }));
    expect(errorPaths(problems)).toEqual([]);
    expect(problems.filter((p) => p.severity === 'warning').map((p) => p.path)).toEqual([
      'devices.gas.bus',
      'devices.dust.bus',
    ]);
  });

  it('checks outlet references: devices, the O2 point and its unit, limits and the reference O2', () => {
    const problems = problemsOf(
      planned({
        'outlets.stack1.o2': 'gas/so2',
        'outlets.stack1.limits': { 'gas/sox': { max: 35 }, 'ghost/so2': { max: 1 } },
        'outlets.stack1.flue': { temperature: 'dust/temperature' },
        'outlets.stack2': {
          name: 'Stack 2',
          devices: ['gas'],
          limits: { 'gas/so2': { max: 35, corrected: true } },
        },
      }),
    );
    expect(errorPaths(problems)).toEqual([
      'outlets.stack1.o2',
      'outlets.stack1.limits.gas/sox',
      'outlets.stack1.limits.ghost/so2',
      'outlets.stack1.flue.temperature',
      'outlets.stack2.limits.gas/so2.corrected',
    ]);
  });

  it('needs the O2 point when the outlet has a reference O2', () => {
    expect(errorPaths(problemsOf(planned({ 'outlets.stack1.o2': undefined })))).toEqual([
      'outlets.stack1.o2',
    ]);
  });

  it('refuses a limit on a point the device skips, and warns when a skipped point drives flags', () => {
    const problems = problemsOf(planned({ 'devices.gas.overrides': { skip: ['so2', 'maintenance'] } }));
    expect(errorPaths(problems)).toEqual(['outlets.stack1.limits.gas/so2']);
    expect(problems.filter((p) => p.severity === 'warning').map((p) => p.path)).toEqual([
      'devices.gas.overrides.skip[1]',
    ]);
  });

  it('checks the HJ 212 platform: outlet, edition of SM4 and the SM4 key', () => {
    const problems = problemsOf(
      planned({ 'uplinks.hj212.city.outlet': 'stack9', 'uplinks.hj212.city.sm4Key': { secret: 'sm4' } }),
      { ...SECRETS, sm4: 'too-short' },
    );
    expect(errorPaths(problems)).toEqual(['uplinks.hj212.city.outlet', 'uplinks.hj212.city.sm4Key']);
    const v2025 = problemsOf(
      planned({ 'uplinks.hj212.city.version': 2025, 'uplinks.hj212.city.sm4Key': { secret: 'sm4' } }),
      { ...SECRETS, sm4: '0000000000000000' },
    );
    expect(errorPaths(v2025)).toEqual([]);
  });

  it('refuses to skip TLS verification unless the caller runs tests', () => {
    const config = edited({
      'uplinks.mqtt': { url: 'mqtts://127.0.0.1:8883', tls: { insecureSkipVerifyForTestsOnly: true } },
    });
    const file = writeSite(tempDir(), config);
    expect(loadError(file).code).toBe('CONFIG_INVALID');
    expect(loadSiteConfig(file, { profiles, allowInsecureTls: true }).config.uplinks.mqtt!.tls).toMatchObject(
      {
        insecureSkipVerifyForTestsOnly: true,
      },
    );
  });

  it('checks that TLS files exist, the key path through its secret', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), 'ca');
    const tls = { ca: 'ca.pem', cert: 'gw.pem', key: { secret: 'tls-key' } };
    const config = edited({ 'uplinks.mqtt': { url: 'mqtts://127.0.0.1:8883', tls } });
    const file = writeSite(dir, config, { ...SECRETS, 'tls-key': 'keys/gw.key' });
    const problems = checkSiteConfig(file, { profiles });
    expect(errorPaths(problems)).toEqual(['uplinks.mqtt.tls.cert', 'uplinks.mqtt.tls.key']);
    expect(problems.map(formatConfigProblem).join('\n')).not.toContain('keys/gw.key');
  });
});

describe('the secrets file', () => {
  it('is named by secretsFile or by the caller, who wins', () => {
    const dir = tempDir();
    const file = writeSite(dir, minimalConfig(), { 'mqtt-pw': 'wrong1' });
    const other = join(dir, 'other.yaml');
    writeFileSync(other, "mqtt-pw: '654321'\n", { mode: 0o600 });
    expect(loadSiteConfig(file, { profiles, secretsFile: other }).secrets.reveal({ secret: 'mqtt-pw' })).toBe(
      '654321',
    );
  });

  it('reports a missing secrets file once, not once per reference', () => {
    const problems = checkSiteConfig(writeSite(tempDir(), minimalConfig(), null), { profiles });
    expect(problems.map((p) => [p.path, p.code])).toEqual([['', 'CONFIG_NOT_FOUND']]);
  });

  it('refuses numbers, which would lose leading zeros, and does not report them missing again', () => {
    const problems = problemsOf(minimalConfig(), { 'mqtt-pw': 12345 });
    expect(problems.map((p) => [p.path, p.severity])).toEqual([['mqtt-pw', 'error']]);
    expect(problems[0]!.hint).toContain('quote');
  });

  it('warns when group or others can read it', () => {
    const dir = tempDir();
    const file = writeSite(dir, minimalConfig(), SECRETS, 0o640);
    const problems = checkSiteConfig(file, { profiles });
    expect(problems.map((p) => [p.file, p.severity])).toEqual([[join(dir, 'secrets.yaml'), 'warning']]);
    chmodSync(join(dir, 'secrets.yaml'), 0o600);
    expect(checkSiteConfig(file, { profiles })).toEqual([]);
  });

  it('never shows a secret value in JSON, inspection or problems', () => {
    const loaded = loadSiteConfig(writeSite(tempDir(), minimalConfig(), { 'mqtt-pw': 's3cr3t' }), {
      profiles,
    });
    expect(JSON.stringify(loaded)).not.toContain('s3cr3t');
    expect(inspect(loaded, { depth: 10 })).not.toContain('s3cr3t');
    expect(JSON.stringify(loaded.secrets)).toContain('mqtt-pw');
    const short = problemsOf(planned(), { ...SECRETS, 'hj212-pw': 'abc' });
    expect(short.filter((p) => p.severity === 'warning').map((p) => [p.path, p.severity])).toEqual([
      ['uplinks.hj212.city.password', 'warning'],
    ]);
    expect(short.map(formatConfigProblem).join()).not.toContain('abc');
  });

  it('throws CONFIG_SECRET_MISSING when asked for a secret it does not hold', () => {
    const loaded = loadSiteConfig(writeSite(tempDir(), minimalConfig()), { profiles });
    expect(() => loaded.secrets.reveal({ secret: 'nope' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_SECRET_MISSING' }),
    );
  });
});
