/**
 * Can this gateway log in to its MQTT broker? One connection with the config's URL, TLS files
 * and credentials, under a client id of its own (so the gateway's persistent session is never
 * taken over), no last will, closed at once. Used by `lantian init`.
 */
import mqtt from 'mqtt';
import type { LoadedConfig } from '../config/index.js';
import { mqttOptions } from '../gateway.js';
import { clientOptions, resolveOptions, tlsMismatchHint } from '../uplink/mqtt/options.js';

export type BrokerCheck = { ok: true; url: string; ms: number } | { ok: false; url: string; error: string };

export async function checkBroker(loaded: LoadedConfig, timeoutMs = 5000): Promise<BrokerCheck | undefined> {
  const o = mqttOptions(loaded);
  if (!o) return undefined;
  const resolved = resolveOptions(o);
  const { will: _will, ...base } = clientOptions(resolved, Date.now());
  const started = performance.now();
  try {
    const client = await mqtt.connectAsync(resolved.url, {
      ...base,
      clientId: `${base.clientId ?? 'lantian'}-check-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
    await client.endAsync();
    return { ok: true, url: resolved.url, ms: Math.round(performance.now() - started) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const hint = tlsMismatchHint(resolved.url, err);
    return { ok: false, url: resolved.url, error: hint ?? err.message };
  }
}
