/**
 * The demo's processing part: a minute limit on the stack's SO2 low enough that the simulated
 * analyzer exceeds it, and a subscriber that puts every closed minute of the stack (SO2 as
 * measured and at the reference O2, its emission amount, the dry standard flow) and every limit
 * event on the demo's timeline, as the platform receives them. Minutes close on the wall clock,
 * so the first appears about ten seconds after the first full minute boundary.
 */
import mqtt from 'mqtt';
import { aggBatchSchema, eventMessageSchema } from '../gateway/src/uplink/mqtt/contract.js';
import type { DemoPart } from './parts.js';
import type { Raw } from './site.js';

/** mg/m3 at the outlet's reference O2, per minute: the simulated SO2 (about 32 at 8.6 % O2) is above it. */
export const DEMO_SO2_MINUTE_LIMIT = 25;

/** Adds the demo's minute limit to the site config the gateway runs with. */
function addDemoLimit(raw: Raw): void {
  const outlets = raw.outlets as Record<string, { limits: Record<string, unknown> }>;
  outlets.stack1!.limits['stack1-gas/so2'] = { max: DEMO_SO2_MINUTE_LIMIT, averaging: 'minute' };
}

const hhmm = (ts: number) =>
  new Date(ts).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit' });
const num = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '-');

/** Notes minute aggregates of the stack and limit events; returns a function that stops it. */
export async function watchProcessing(
  brokerUrl: string,
  gatewayId: string,
  note: (text: string) => void,
): Promise<() => Promise<void>> {
  const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 1000 });
  await client.subscribeAsync([`lantian/v1/${gatewayId}/agg`, `lantian/v1/${gatewayId}/events`], { qos: 1 });
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as unknown;
    if (topic.endsWith('/agg')) {
      for (const a of aggBatchSchema.parse(body).aggregates) {
        if (a.period !== 'minute') continue;
        if (a.device === 'stack1-gas' && a.point === 'so2') {
          note(
            `minute ${hhmm(a.start)} stack1 SO2 ${num(a.avg)} mg/m3 (${a.count} samples, flag ${a.flag}), ` +
              `${num(a.zsAvg)} at 9 % O2, ${num(a.cou, 4)} kg emitted`,
          );
        } else if (a.point === 'dry_std_flow') {
          note(`minute ${hhmm(a.start)} stack1 dry standard flow ${num(a.avg)} m3/s, ${num(a.cou, 0)} m3`);
        }
      }
    } else {
      const e = eventMessageSchema.parse(body);
      if (e.kind !== 'exceedance' && e.kind !== 'alarm') return;
      const p = e.payload as {
        state: string;
        device: string;
        point: string;
        value: number;
        limit: number;
        start: number;
        period: string;
        unit?: string;
      };
      note(
        `${e.kind} ${p.state}: ${p.device}/${p.point} ${num(p.value)} vs ${num(p.limit)} ${p.unit ?? ''} (${p.period} ${hhmm(p.start)})`,
      );
    }
  });
  return async () => {
    await client.endAsync();
  };
}

/** The processing part of the demo: the minute limit, and the minutes and events on the timeline. */
export function processingPart(gatewayId: string): DemoPart {
  let stop: (() => Promise<void>) | undefined;
  return {
    name: 'processing',
    configure: (raw) => addDemoLimit(raw),
    start: async (ctx) => {
      stop = await watchProcessing(ctx.brokerUrl, gatewayId, (text) => ctx.note(text));
    },
    stop: async () => {
      await stop?.();
    },
  };
}
