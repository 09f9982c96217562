/**
 * The counting subscriber, in its own process: subscribes to every gateway's `data` and `health`
 * topics at QoS 1 and parses each message (docs/mqtt.md): readings delivered, those with a value,
 * those the gateway recorded as `overrun` slots, how far behind acquisition each message arrives,
 * and the uplink backlog the latest health message states. The benchmark reads the counters at
 * the start and the end of each step's window.
 */
import mqtt from 'mqtt';
import { Child, serve } from './child.js';

/** Counters of one gateway since the subscriber first heard from it. */
export interface Counts {
  /** Wall-clock ms when the counters were read. */
  atMs: number;
  /** Wall-clock ms the first data message arrived, or null before it. */
  firstDataMs: number | null;
  messages: number;
  readings: number;
  /** Readings with a value (not null). */
  valued: number;
  /**
   * Point-slots the bus could not poll in time: B readings whose quality says `overrun`, and the
   * slots a reading's `missed` counts.
   */
  overrun: number;
  /** Median delay, receipt minus the newest reading's acquisition time, over the last 2 s (ms); null without messages. */
  recentLagMs: number | null;
  /** From the newest health message, or null before one. */
  health: { backlog: number; lastSeq: number; heldMs: number | null } | null;
}

interface Reading {
  ts: number;
  value: number | null;
  quality?: string[];
  missed?: { slots: number };
}

const RECENT_MS = 2000;

/** The subscriber's handle in the benchmark. */
export class Subscriber {
  private constructor(private readonly child: Child) {}

  static async start(url: string): Promise<Subscriber> {
    const child = Child.fork(import.meta.url);
    await child.call({ op: 'connect', url });
    return new Subscriber(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  counts(gateway: string): Promise<Counts> {
    return this.child.call<Counts>({ op: 'counts', gateway });
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function child(): void {
  let client: mqtt.MqttClient | undefined;
  const gateways = new Map<string, Omit<Counts, 'atMs' | 'recentLagMs'> & { lags: [number, number][] }>();
  const of = (gateway: string) => {
    let g = gateways.get(gateway);
    if (!g) {
      g = { firstDataMs: null, messages: 0, readings: 0, valued: 0, overrun: 0, health: null, lags: [] };
      gateways.set(gateway, g);
    }
    return g;
  };
  const onMessage = (topic: string, payload: Buffer) => {
    const now = Date.now();
    const [, , gateway, kind] = topic.split('/');
    const g = of(gateway!);
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (kind === 'health') {
      const uplink = body.uplink as { backlog: number };
      const log = body.log as { lastSeq: number };
      const admission = (body.acquisition as { admission?: { heldMs: number } } | undefined)?.admission;
      g.health = { backlog: uplink.backlog, lastSeq: log.lastSeq, heldMs: admission?.heldMs ?? null };
      return;
    }
    const readings = body.readings as Reading[];
    g.firstDataMs ??= now;
    g.messages++;
    g.readings += readings.length;
    let newest = 0;
    for (const r of readings) {
      if (r.value !== null) g.valued++;
      if (r.quality?.includes('overrun')) g.overrun++;
      if (r.missed) g.overrun += r.missed.slots;
      if (r.ts > newest) newest = r.ts;
    }
    g.lags.push([now, now - newest]);
    while (g.lags.length > 0 && g.lags[0]![0] < now - RECENT_MS) g.lags.shift();
  };
  serve(async (r) => {
    switch (r.op) {
      case 'connect':
        client = await mqtt.connectAsync(r.url as string, { clientId: 'lantian-scale-bench-counter' });
        client.on('message', onMessage);
        await client.subscribeAsync(['lantian/v1/+/data', 'lantian/v1/+/health'], { qos: 1 });
        return undefined;
      case 'counts': {
        const { lags, ...g } = of(r.gateway as string);
        const now = Date.now();
        return {
          ...g,
          atMs: now,
          recentLagMs: median(lags.filter(([t]) => t >= now - RECENT_MS).map(([, l]) => l)),
        };
      }
      case 'stop':
        await client?.endAsync();
        return undefined;
      default:
        throw new Error(`unknown request ${r.op}`);
    }
  });
}

if (process.argv[2] === 'child') child();
