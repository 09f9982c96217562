/** Shared by the drain benchmarks: starts a publisher and waits until its whole backlog is acknowledged. */
import type { MqttPublisher } from '../gateway/src/uplink/mqtt/publisher.js';

/** Starts `publisher` and resolves with the seconds until every seq up to `target` is acknowledged. */
export async function drainBacklog(publisher: MqttPublisher, target: number): Promise<number> {
  const t0 = performance.now();
  publisher.start();
  await new Promise<void>((resolve) => {
    publisher.on('acked', () => {
      if (publisher.status().ackedThrough >= target) resolve();
    });
  });
  return (performance.now() - t0) / 1000;
}
