/** Waiting on the MQTT publisher in tests: by its events, never by polling. */
import type { MqttPublisher } from '../../gateway/src/uplink/mqtt/publisher.js';

/** Resolves once the publisher's cursor has every seq up to `seq` acknowledged. */
export function ackedThrough(p: MqttPublisher, seq: number, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (p.status().ackedThrough < seq) return;
      clearTimeout(timer);
      p.off('acked', check);
      resolve();
    };
    const timer = setTimeout(() => {
      p.off('acked', check);
      reject(new Error(`cursor at ${p.status().ackedThrough}, not ${seq}, after ${timeoutMs} ms`));
    }, timeoutMs);
    p.on('acked', check);
    check();
  });
}

export function connected(p: MqttPublisher, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (p.status().connected) return resolve();
    const timer = setTimeout(
      () => reject(new Error(`publisher not connected after ${timeoutMs} ms`)),
      timeoutMs,
    );
    p.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
