/**
 * An embedded MQTT broker (Aedes) for the demo and for tests on machines without Mosquitto.
 * `stop()` closes the listener and drops every connection while the broker keeps its sessions
 * and retained messages, like a broker with persistence that is restarted; `start()` listens
 * again on the same port.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Aedes } from 'aedes';
import { LantianError } from '../../core/errors.js';

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Serve MQTT over TLS with these options (key, cert, ca, requestCert, ...). */
  tls?: TlsOptions;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly aedes: Aedes;
  /** Drops every connection and stops listening; sessions and retained messages stay. */
  stop: () => Promise<void>;
  /** Listens again on the same port. */
  start: () => Promise<void>;
  /** Stops for good. */
  close: () => Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000 });
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = options.port ?? 0;

  const up = async () => {
    if (server) return; // already listening: start() is idempotent
    const s = options.tls ? createTlsServer(options.tls, aedes.handle) : createTcpServer(aedes.handle);
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    try {
      port = await listen(s, port, host);
    } catch (cause) {
      throw new LantianError(
        'UPLINK_BROKER_FAILED',
        `embedded MQTT broker cannot listen on ${host}:${port}`,
        {
          cause,
          context: { host, port },
        },
      );
    }
    server = s;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await up();
  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    port,
    host,
    aedes,
    stop: down,
    start: up,
    async close() {
      await down();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
