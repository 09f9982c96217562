/**
 * Transports on modbus-serial: RTU on a serial port (connectRTUBuffered), Modbus TCP
 * (connectTCP) and RTU over TCP to a transparent device server (connectTelnet).
 *
 * What this adds to the library (see docs/acquisition.md):
 * - every read has a timeout (the library's default is none), plus a guard timer so a lost
 *   callback can never leave a read pending;
 * - a link that drops fails the pending read at once with TRANSPORT_CLOSED instead of waiting
 *   for the timeout;
 * - stale input is dropped before each request: the buffered RTU and telnet ports keep
 *   unconsumed bytes across requests (the rest of a truncated or garbled reply), which would be
 *   glued to the next reply and misread;
 * - errors become LantianError codes (transport/errors.ts).
 */
import type { Socket } from 'node:net';
import ModbusSerial from 'modbus-serial';
import { LantianError } from '../../core/errors.js';
import { mapLibraryError } from './errors.js';
import type { LinkSettings, ReadFrame, Transport } from './types.js';

const ModbusRTU = ModbusSerial.default;
type Client = InstanceType<typeof ModbusRTU>;

/** Library internals touched here, kept in one place: the port object and its input buffers. */
interface PortInternals {
  _buffer?: Buffer;
  _clientRcvData?: Buffer;
  _client?: Pick<Socket, 'once' | 'removeListener'>;
}
const portOf = (client: Client): PortInternals | undefined =>
  (client as unknown as { _port?: PortInternals })._port;

/** Extra time before the guard timer fails a read the library never called back about. */
const GUARD_MS = 250;

interface Pending {
  settle: (err: LantianError | undefined, data?: number[]) => void;
}

export function describeLink(link: LinkSettings): string {
  switch (link.kind) {
    case 'rtu':
      return `rtu ${link.path} ${link.line.baud}`;
    case 'tcp':
      return `tcp ${link.host}:${link.port ?? 502}`;
    case 'rtu-tcp':
      return `rtu-tcp ${link.host}:${link.port}`;
  }
}

export class ModbusSerialTransport implements Transport {
  readonly kind: LinkSettings['kind'];
  private client: Client | undefined;
  private pending: Pending | undefined;
  private dropListeners: ((cause?: unknown) => void)[] = [];
  private readonly where: string;

  constructor(private readonly link: LinkSettings) {
    this.kind = link.kind;
    this.where = describeLink(link);
  }

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  onDrop(listener: (cause?: unknown) => void): void {
    this.dropListeners.push(listener);
  }

  async open(timeoutMs: number): Promise<void> {
    await this.close();
    const client = new ModbusRTU();
    // An 'error' event without a listener would crash the process; the close path handles it.
    client.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.connect(client), timedOut]);
    } catch (cause) {
      destroyClient(client, this.kind);
      throw new LantianError('TRANSPORT_CONNECT_FAILED', `${this.where}: cannot open (${messageOf(cause)})`, {
        cause,
        context: { link: this.where },
      });
    } finally {
      clearTimeout(timer);
    }
    this.client = client;
    const onClose = (): void => this.dropped(client);
    client.on('close', onClose);
    portOf(client)?._client?.once('close', onClose);
  }

  private connect(client: Client): Promise<void> {
    const link = this.link;
    switch (link.kind) {
      case 'rtu':
        return client.connectRTUBuffered(link.path, {
          baudRate: link.line.baud,
          dataBits: link.line.dataBits ?? 8,
          parity: link.line.parity ?? 'none',
          stopBits: link.line.stopBits ?? 1,
        });
      case 'tcp':
        return client.connectTCP(link.host, { port: link.port ?? 502 });
      case 'rtu-tcp':
        return client.connectTelnet(link.host, { port: link.port });
    }
  }

  private dropped(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.pending?.settle(
      new LantianError('TRANSPORT_CLOSED', `${this.where}: link closed during a request`, {
        context: { link: this.where },
      }),
    );
    for (const l of this.dropListeners) l();
  }

  read(frame: ReadFrame, timeoutMs: number): Promise<number[]> {
    const context = {
      link: this.where,
      unitId: frame.unitId,
      function: frame.function,
      address: frame.address,
    };
    const client = this.client;
    if (!client?.isOpen) {
      return Promise.reject(
        new LantianError('TRANSPORT_CLOSED', `${this.where}: link is not open`, { context }),
      );
    }
    const port = portOf(client);
    if (port?._buffer) port._buffer = Buffer.alloc(0);
    if (port?._clientRcvData) port._clientRcvData = Buffer.alloc(0);
    client.setTimeout(timeoutMs);

    return new Promise<number[]>((resolve, reject) => {
      const guard = setTimeout(() => {
        settle(new LantianError('TRANSPORT_TIMEOUT', `${this.where}: no answer (guard)`, { context }));
      }, timeoutMs + GUARD_MS);
      const settle = (err: LantianError | undefined, data?: number[]): void => {
        if (this.pending !== pending) return;
        this.pending = undefined;
        clearTimeout(guard);
        if (err) reject(err);
        else resolve(data ?? []);
      };
      const pending: Pending = { settle };
      this.pending = pending;
      const done = (err: unknown, res?: { data: (number | boolean)[] }): void => {
        if (err) return settle(mapLibraryError(err, context));
        const data = (res?.data ?? []).slice(0, frame.count).map(Number);
        if (data.length !== frame.count) {
          return settle(
            new LantianError(
              'MODBUS_BAD_REPLY',
              `${this.where}: reply carries ${data.length} of ${frame.count} values`,
              {
                context,
              },
            ),
          );
        }
        settle(undefined, data);
      };
      try {
        const { unitId, address, count } = frame;
        switch (frame.function) {
          case 1:
            return client.writeFC1(unitId, address, count, done);
          case 2:
            return client.writeFC2(unitId, address, count, done);
          case 3:
            return client.writeFC3(unitId, address, count, done);
          case 4:
            return client.writeFC4(unitId, address, count, done);
        }
      } catch (e) {
        settle(mapLibraryError(e, context));
      }
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.pending?.settle(
      new LantianError('TRANSPORT_CLOSED', `${this.where}: closed`, { context: { link: this.where } }),
    );
    if (client) await closeClient(client, this.kind);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error
    ? e.message
    : typeof e === 'object' && e && 'message' in e
      ? String(e.message)
      : String(e);
}

/** Sockets are destroyed (the library's close() can wait forever after a socket error). */
function destroyClient(client: Client, kind: LinkSettings['kind']): void {
  if (kind === 'rtu') client.close(() => undefined);
  else client.destroy(() => undefined);
}

function closeClient(client: Client, kind: LinkSettings['kind']): Promise<void> {
  if (kind !== 'rtu') {
    destroyClient(client, kind);
    return Promise.resolve();
  }
  // A serial port closes asynchronously; do not wait more than a second for it.
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 1000);
    client.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export const modbusSerialTransport = (link: LinkSettings): Transport => new ModbusSerialTransport(link);
