/**
 * The byte pipes under the Modbus transport: a local serial port (serialport) or a TCP socket
 * (node:net). A channel only moves bytes and reports that it closed; framing is the transport's.
 */
import { connect, type Socket } from 'node:net';
import type { LinkSettings } from './types.js';

export interface Channel {
  write(bytes: Buffer): void;
  /** Closes the pipe; resolves within a second even if the port does not confirm. */
  close(): Promise<void>;
}

export interface ChannelEvents {
  onData(bytes: Buffer): void;
  /** The pipe closed by itself (cable, peer, device server). */
  onClose(cause?: unknown): void;
}

/**
 * A Modbus TCP link with several requests in flight writes what one turn of the event loop asks
 * in one write (the socket corked until the loop's check phase).
 */
export function openChannel(link: LinkSettings, events: ChannelEvents): Promise<Channel> {
  if (link.kind === 'rtu') return openSerial(link, events);
  const coalesce = link.kind === 'tcp' && (link.maxInFlight ?? 1) > 1;
  return openSocket(link.host, link.port ?? 502, events, coalesce);
}

async function openSerial(
  link: Extract<LinkSettings, { kind: 'rtu' }>,
  events: ChannelEvents,
): Promise<Channel> {
  // Loaded with the first serial link: a site on TCP alone never loads the driver (docs/footprint.md).
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({
    path: link.path,
    baudRate: link.line.baud,
    dataBits: link.line.dataBits ?? 8,
    parity: link.line.parity ?? 'none',
    stopBits: link.line.stopBits ?? 1,
    autoOpen: false,
  });
  // An 'error' event without a listener would crash the process; failures surface as close.
  port.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  let closing = false;
  port.on('data', (d: Buffer) => events.onData(d));
  port.on('close', (err?: unknown) => {
    if (!closing) events.onClose(err);
  });
  return {
    write: (bytes) => void port.write(bytes),
    close: () => {
      closing = true;
      if (!port.isOpen) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        port.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

async function openSocket(
  host: string,
  port: number,
  events: ChannelEvents,
  coalesce: boolean,
): Promise<Channel> {
  const socket: Socket = connect({ host, port });
  socket.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch (e) {
    socket.destroy();
    throw e;
  }
  let closing = false;
  let cause: unknown;
  socket.on('error', (e) => (cause = e));
  socket.on('data', (d: Buffer) => events.onData(d));
  socket.on('close', () => {
    if (!closing) events.onClose(cause);
  });
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return {
    write: (bytes) => {
      if (coalesce && !corked) {
        // Requests issued by the timers and the replies of this turn leave together, in one
        // writev after the poll phase: one system call (and one wake-up of the peer) for all.
        corked = true;
        socket.cork();
        setImmediate(uncork);
      }
      void socket.write(bytes);
    },
    close: () => {
      closing = true;
      socket.destroy();
      return Promise.resolve();
    },
  };
}
