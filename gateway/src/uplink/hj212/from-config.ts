/**
 * Session options from the site config: which devices feed a platform (its outlet's or its
 * own list), their points' factor codes from the profiles, and the secrets (PW, SM4 key).
 */
import type { LoadedConfig } from '../../config/index.js';
import { pollingPlan } from '../../config/plan.js';
import type { Hj212SessionOptions } from './session.js';
import { sm4Key } from './sm4.js';

export function hj212SessionOptions(loaded: LoadedConfig): Hj212SessionOptions[] {
  const c = loaded.config;
  const devices = pollingPlan(c, loaded.profiles).flatMap((b) => b.devices);
  return Object.entries(c.uplinks.hj212).map(([name, p]) => {
    const fed = p.outlet !== undefined ? (c.outlets[p.outlet]?.devices ?? []) : (p.devices ?? []);
    const codes = new Map<string, string>();
    for (const d of devices) {
      if (!fed.includes(d.id)) continue;
      for (const pt of d.points) if (pt.hj212 !== undefined) codes.set(`${d.id}/${pt.key}`, pt.hj212);
    }
    return {
      name,
      host: p.host,
      port: p.port,
      edition: p.version,
      st: p.st,
      mn: p.mn,
      password: loaded.secrets.reveal(p.password),
      crc: p.crc,
      timezone: p.timezone,
      devices: fed,
      ...(p.outlet === undefined ? {} : { outlet: p.outlet }),
      codes,
      rtdIntervalS: p.rtdIntervalS,
      minIntervalMin: p.minIntervalMin,
      send: p.send,
      timeoutMs: p.timeoutS * 1000,
      retries: p.retries,
      maxTimeStepMs: p.maxTimeStepS * 1000,
      ...(p.heartbeatS === undefined ? {} : { heartbeatMs: p.heartbeatS * 1000 }),
      ...(p.sm4Key ? { sm4Key: sm4Key(loaded.secrets.reveal(p.sm4Key)) } : {}),
      ...(p.registration ? { registration: p.registration } : {}),
      requestKey: p.requestKey,
      stateFile: `${c.storage.path}.hj212-${name}.json`,
    };
  });
}
