/**
 * A fault-injecting TCP proxy between an MQTT client (the gateway) and a real broker. It parses
 * both directions with `mqtt-packet` and can hold or drop the broker's PUBACKs, swallow the
 * client's PUBLISHes (the broker never gets them), cut the connection after N publishes, and
 * stall a connection (TCP stays open, nothing is forwarded either way). MQTT 3.1.1 only.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type PubackMode = 'pass' | 'hold' | 'drop';

export interface ProxyCounters {
  /** PUBLISH packets from the client forwarded to the broker. */
  publishes: number;
  /** PUBLISH packets from the client swallowed. */
  swallowed: number;
  /** PUBACKs from the broker forwarded to the client (held ones included once released). */
  pubacks: number;
  /** PUBACKs dropped. */
  droppedPubacks: number;
  /** Client connections accepted. */
  connections: number;
  /** Connections the proxy cut. */
  cuts: number;
}

export interface MqttProxy {
  url: string;
  counters: ProxyCounters;
  /** What happens to the broker's PUBACKs from now on. */
  pubacks(mode: PubackMode): void;
  /** Delay every forwarded PUBACK by this many ms (0: none). */
  delayPubacks(ms: number): void;
  /** PUBACKs being held. */
  held(): number;
  /** Sends the held PUBACKs to whichever client connection is open now (perhaps a newer one). */
  releaseHeld(): void;
  /** Whether the client's PUBLISHes reach the broker (false: dropped, as if lost on the way). */
  forwardPublishes(on: boolean): void;
  /** Cuts every open connection (both sides) after `n` more forwarded or swallowed PUBLISHes. */
  cutAfterPublishes(n: number): void;
  /** Cuts every open connection now. */
  cut(): void;
  /** Open connections stop forwarding anything, both ways; TCP stays open. New ones flow. */
  stall(): void;
  /** Resolves when the client has closed the stalled connection (keepalive). */
  stalledClosed(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  broker: Socket;
  stalled: boolean;
  closed: boolean;
}

export async function startMqttProxy(brokerPort: number, brokerHost = '127.0.0.1'): Promise<MqttProxy> {
  const counters: ProxyCounters = {
    publishes: 0,
    swallowed: 0,
    pubacks: 0,
    droppedPubacks: 0,
    connections: 0,
    cuts: 0,
  };
  const pairs = new Set<Pair>();
  let mode: PubackMode = 'pass';
  let delayMs = 0;
  let forward = true;
  let cutIn: number | undefined;
  const held: Packet[] = [];
  const stalledWaiters: (() => void)[] = [];

  const newest = (): Pair | undefined => [...pairs].filter((p) => !p.closed && !p.stalled).at(-1);
  const send = (to: Socket, packet: Packet) => {
    if (!to.destroyed) to.write(mqttPacket.generate(packet));
  };
  const cutAll = () => {
    for (const p of pairs) {
      counters.cuts++;
      p.client.destroy();
      p.broker.destroy();
    }
  };

  const server: Server = createServer((client) => {
    counters.connections++;
    const broker = connect(brokerPort, brokerHost);
    const pair: Pair = { client, broker, stalled: false, closed: false };
    pairs.add(pair);
    const close = () => {
      if (pair.closed) return;
      pair.closed = true;
      pairs.delete(pair);
      client.destroy();
      broker.destroy();
      if (pair.stalled) stalledWaiters.splice(0).forEach((w) => w());
    };
    client.on('close', close).on('error', close);
    broker.on('close', close).on('error', close);

    const up = mqttPacket.parser({ protocolVersion: 4 });
    up.on('packet', (packet: Packet) => {
      if (pair.stalled) return;
      if (packet.cmd === 'publish') {
        if (forward) {
          counters.publishes++;
          send(broker, packet);
        } else counters.swallowed++;
        if (cutIn !== undefined && --cutIn <= 0) {
          cutIn = undefined;
          setImmediate(cutAll);
        }
        return;
      }
      send(broker, packet);
    });
    const down = mqttPacket.parser({ protocolVersion: 4 });
    down.on('packet', (packet: Packet) => {
      if (pair.stalled) return;
      if (packet.cmd !== 'puback') return send(client, packet);
      if (mode === 'drop') {
        counters.droppedPubacks++;
      } else if (mode === 'hold') {
        held.push(packet);
      } else if (delayMs > 0) {
        setTimeout(() => {
          counters.pubacks++;
          send(client, packet);
        }, delayMs);
      } else {
        counters.pubacks++;
        send(client, packet);
      }
    });
    client.on('data', (d: Buffer) => up.parse(d));
    broker.on('data', (d: Buffer) => down.parse(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `mqtt://127.0.0.1:${port}`,
    counters,
    pubacks: (m) => (mode = m),
    delayPubacks: (ms) => (delayMs = ms),
    held: () => held.length,
    releaseHeld() {
      const to = newest();
      if (!to) throw new Error('no open client connection to release the PUBACKs to');
      for (const p of held.splice(0)) {
        counters.pubacks++;
        send(to.client, p);
      }
    },
    forwardPublishes: (on) => (forward = on),
    cutAfterPublishes: (n) => (cutIn = n),
    cut: cutAll,
    stall() {
      for (const p of pairs) p.stalled = true;
    },
    stalledClosed: () =>
      [...pairs].some((p) => p.stalled)
        ? new Promise<void>((resolve) => stalledWaiters.push(resolve))
        : Promise.resolve(),
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
