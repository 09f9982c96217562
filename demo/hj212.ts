/**
 * The demo's HJ 212 part: two platform simulators, the city's (HJ 212-2017) and the province's
 * (HJ 212-2025 with SM4 and heartbeats), added to the demo's site config as `uplinks.hj212`.
 * With `--hj212-transcripts DIR` each platform writes its transcript to `DIR/<platform>.txt`.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHj212Platform, type Hj212Platform } from '../hardware-sim/src/hj212/platform.js';
import type { DemoPart } from './parts.js';
import type { Raw } from './site.js';

/** The platforms' real-time interval (CN 2011), seconds. */
const REAL_TIME_INTERVAL_S = 30;

const PLATFORMS = {
  city: { edition: 2017 as const, mn: '010000A8900016F000169DC0', password: 'city01' },
  province: {
    edition: 2025 as const,
    mn: '010000A8900016F000169DC1',
    password: 'prov01',
    key: 'Hengda-SM4-Demo!',
  },
};

export interface Hj212Demo {
  platforms: Map<string, Hj212Platform>;
  /** Adds the platforms to the config file the demo wrote (and to its secrets file). */
  /** Adds both platforms to the site config (and their secrets to its secrets file). */
  configure(raw: Raw): void;
  /** One line per platform: what it received. */
  summary(): string[];
  stop(): Promise<void>;
}

/** Starts the platforms (before the demo's timeline starts: they take no time from it). */
export async function startHj212Demo(transcripts?: string): Promise<Hj212Demo> {
  const platforms = new Map<string, Hj212Platform>();
  for (const [name, p] of Object.entries(PLATFORMS)) {
    platforms.set(
      name,
      await startHj212Platform({
        edition: p.edition,
        mn: p.mn,
        password: p.password,
        ...('key' in p ? { sm4Key: Buffer.from(p.key) } : {}),
        ...(transcripts ? { transcript: join(transcripts, `${name}.txt`) } : {}),
      }),
    );
  }
  return {
    platforms,
    configure: (raw: Raw) => {
      const secrets = raw.secretsFile as string;
      appendFileSync(
        secrets,
        `city-pw: '${PLATFORMS.city.password}'\nprovince-pw: '${PLATFORMS.province.password}'\nprovince-sm4: '${PLATFORMS.province.key}'\n`,
      );
      const feed = {
        devices: ['stack1-gas', 'stack1-flow'],
        st: 31,
        rtdIntervalS: REAL_TIME_INTERVAL_S,
        timeoutS: 5,
      };
      (raw.uplinks as Raw).hj212 = {
        city: {
          host: '127.0.0.1',
          port: platforms.get('city')!.port,
          mn: PLATFORMS.city.mn,
          password: { secret: 'city-pw' },
          ...feed,
        },
        province: {
          host: '127.0.0.1',
          port: platforms.get('province')!.port,
          version: 2025,
          mn: PLATFORMS.province.mn,
          password: { secret: 'province-pw' },
          sm4Key: { secret: 'province-sm4' },
          heartbeatS: 10,
          ...feed,
        },
      };
    },
    summary: () =>
      [...platforms].map(([name, p]) => {
        const count = (cn: string) => p.received.filter((x) => x.cn === cn).length;
        return (
          `HJ 212 ${name}: ${count('2011')} real-time, ${count('2051')} minute packets, ` +
          `${count('9015')} heartbeats, ${p.refused.length} refused frames`
        );
      }),
    stop: async () => {
      for (const p of platforms.values()) await p.stop();
    },
  };
}

/** The HJ 212 part of the demo: both platforms in the config, and a verdict line for each. */
export function hj212Part(demo: Hj212Demo): DemoPart {
  return {
    name: 'hj212',
    configure: (raw) => demo.configure(raw),
    verdict: (_ctx, ranForS) =>
      [...demo.platforms].map(([name, p], i) => {
        const delivered = p.received.some((x) => x.cn === '2011') && p.refused.length === 0;
        // The first real-time upload is due one interval after the gateway connects.
        return {
          ok: delivered ? true : ranForS < REAL_TIME_INTERVAL_S + 10 ? undefined : false,
          text: demo.summary()[i] ?? name,
        };
      }),
    stop: () => demo.stop(),
  };
}
