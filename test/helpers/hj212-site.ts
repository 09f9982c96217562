/**
 * A site config with two HJ 212 platforms fed by one stack analyser: a 2017 city platform and
 * a 2025 provincial one with SM4, and the secrets file beside it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHj212Platform, type Hj212Platform } from '../../hardware-sim/src/hj212/platform.js';

export const MN_CITY = '010000A8900016F000169DC0';
export const MN_PROVINCE = '010000A8900016F000169DC1';
export const PROVINCE_KEY = 'Lantian-SM4-key!';

export interface Hj212SiteOptions {
  /** The Modbus port of the stack bus (RTU over TCP). */
  busPort: number;
  city: number;
  province: number;
  /** Extra flow-style settings of each platform, e.g. `timeoutS: 1, retries: 0`. */
  cityExtra?: string;
  provinceExtra?: string;
  /** Default `log.db`, relative to the config. */
  storage?: string;
  /** Config file name in `dir`; default `site.yaml`. */
  name?: string;
  /** Only this platform. */
  only?: 'city' | 'province';
}

export function writeHj212Site(dir: string, o: Hj212SiteOptions): string {
  writeFileSync(
    join(dir, 'secrets.yaml'),
    `city-pw: 'city01'\nprov-pw: 'prov01'\nprov-sm4: '${PROVINCE_KEY}'\n`,
  );
  const file = join(dir, o.name ?? 'site.yaml');
  const extra = (s: string | undefined) => (s === undefined ? '' : `, ${s}`);
  const city = `    city: { host: 127.0.0.1, port: ${o.city}, mn: '${MN_CITY}', password: { secret: city-pw }, devices: [stack1-uv]${extra(o.cityExtra)} }\n`;
  const province = `    province: { host: 127.0.0.1, port: ${o.province}, version: 2025, mn: '${MN_PROVINCE}', password: { secret: prov-pw }, sm4Key: { secret: prov-sm4 }, devices: [stack1-uv]${extra(o.provinceExtra)} }\n`;
  writeFileSync(
    file,
    `version: 1
site: { id: test-site, name: Test site }
gateway: { id: gw-test }
secretsFile: secrets.yaml
buses:
  stack1: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${o.busPort}, baud: 9600, timeoutMs: 500, retries: 0 }
devices:
  stack1-uv: { profile: sdl.scs-900uv, bus: stack1, unitId: 1, periodMs: 1000 }
uplinks:
  hj212:
${o.only === 'province' ? '' : city}${o.only === 'city' ? '' : province}storage: { path: ${o.storage ?? 'log.db'}, quotaMb: 64 }
`,
  );
  return file;
}

/** The two platform simulators the site expects (a 2017 city, a 2025 province with SM4). */
export async function startSitePlatforms(): Promise<{ city: Hj212Platform; province: Hj212Platform }> {
  const city = await startHj212Platform({ mn: MN_CITY, password: 'city01' });
  const province = await startHj212Platform({
    mn: MN_PROVINCE,
    password: 'prov01',
    edition: 2025,
    sm4Key: Buffer.from(PROVINCE_KEY),
  });
  return { city, province };
}
