/**
 * A platform-side capture for the integrity tests: a persistent MQTT subscription to everything
 * under a gateway's root, kept as `mosquitto_sub -v` lines (topic, a space, the payload), the
 * form `lantian verify` reads.
 */
import mqtt from 'mqtt';

export interface Capture {
  lines: string[];
  /** Resolves once `predicate` holds for the lines captured so far. */
  waitFor(predicate: (lines: string[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function capture(url: string, root: string, clientId: string): Promise<Capture> {
  const client = await mqtt.connectAsync(url, { clientId, clean: false, protocolVersion: 4 });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload) => {
    lines.push(`${topic} ${payload.toString('utf8')}`);
    for (const w of waiters) w();
  });
  await client.subscribeAsync(`${root}/#`, { qos: 1 });
  return {
    lines,
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(lines)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`capture: condition not met within ${timeoutMs} ms (${lines.length} lines)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await client.endAsync();
    },
  };
}

/** Highest seq carried by the captured data messages. */
export function maxDataSeq(lines: readonly string[]): number {
  let max = 0;
  for (const l of lines) {
    const m = /\/data (\{.*)$/.exec(l);
    if (m) max = Math.max(max, (JSON.parse(m[1]!) as { last: number }).last);
  }
  return max;
}
