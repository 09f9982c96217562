/**
 * The two TCP ways onto a bus: Modbus TCP (MBAP frames, as a Modbus TCP device or gateway
 * presents it) and raw RTU frames over TCP (as a transparent serial device server presents the
 * RS-485 bus behind it). Both keep track of their connections so a drop fault and stop() can
 * close them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { LantianError, type Logger } from '../../../gateway/src/core/index.js';
import type { RtuBus } from '../bus/rtu-bus.js';
import { BusStats } from '../bus/stats.js';
import { damage, decide, noteAnswered, type BusContext, type Decision } from '../bus/transact.js';
import { MbapFramer, mbapFrame, type RtuRequestFramer } from '../modbus/framing.js';
import { exceptionPdu } from '../modbus/pdu.js';
import { waitUntil } from '../wire/precise-timer.js';

/** Exception 0B: a Modbus TCP gateway's answer for a unit id with no device behind it. */
const GATEWAY_TARGET_FAILED = 0x0b;

export abstract class TcpListener {
  protected readonly server: Server;
  protected readonly sockets = new Set<Socket>();
  port = 0;

  constructor(protected readonly name: string) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      this.accept(socket);
    });
  }

  protected abstract accept(socket: Socket): void;

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (cause: Error) =>
        reject(
          new LantianError('SIM_LISTEN_FAILED', `bus ${this.name}: cannot listen on ${host}:${port}`, {
            cause,
            context: { bus: this.name, host, port },
          }),
        );
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    return this.port;
  }

  /** Closes every open connection (the drop fault on a whole bus). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ModbusTcpOptions {
  /** What a unit id with no device gets: silence, or exception 0B as a gateway answers. */
  unknownUnit: 'silent' | 'gateway-exception';
}

/** Modbus TCP: MBAP in, MBAP out; requests on one connection are answered in order. */
export class ModbusTcpServer extends TcpListener {
  readonly stats: BusStats;

  constructor(
    private readonly ctx: BusContext,
    private readonly options: ModbusTcpOptions,
    private readonly log: Logger,
  ) {
    super(ctx.name);
    this.stats = new BusStats(ctx.name, 'tcp');
  }

  protected accept(socket: Socket): void {
    let chain = Promise.resolve();
    let frames = 0;
    const framer = new MbapFramer((frame) => {
      frames++;
      chain = chain.then(() => this.handle(socket, frame.transactionId, frame.unitId, frame.pdu));
    });
    socket.on('data', (chunk) => {
      frames = 0;
      // A stream that is not Modbus TCP is closed, as a device does.
      if (!framer.push(chunk)) return void socket.destroy();
      // Several requests in one segment (a client with more than one in flight): the replies
      // ready in this turn go back together, as a gateway's TCP stack would send them.
      if (frames > 1) {
        socket.cork();
        setImmediate(() => socket.uncork());
      }
    });
  }

  private async handle(socket: Socket, tid: number, unitId: number, pdu: Buffer): Promise<void> {
    const start = performance.now();
    const reqBytes = 7 + pdu.length;
    this.log.debug({ bus: this.name, unitId, pdu: pdu.toString('hex') }, 'request');
    const d = decide(this.ctx, unitId, pdu, start);
    const record = (respBytes: number, extra: { exception?: boolean; dropped?: boolean } = {}) =>
      this.stats.record({
        unitId,
        reqBytes,
        respBytes,
        turnaroundMs: 0,
        start,
        end: performance.now(),
        ...extra,
      });
    if (d.kind === 'drop') {
      socket.destroy();
      return record(0, { dropped: true });
    }
    if (d.kind === 'silent') {
      if (d.reason === 'no-device' && this.options.unknownUnit === 'gateway-exception') {
        const frame = mbapFrame(tid, unitId, exceptionPdu(pdu[0] ?? 0, GATEWAY_TARGET_FAILED));
        if (!socket.destroyed) socket.write(frame);
        return record(frame.length, { exception: true });
      }
      return record(0);
    }
    await waitUntil(start + d.turnaroundMs + d.extraDelayMs);
    if (socket.destroyed) return;
    const frame = tcpReply(tid, d);
    socket.write(frame);
    noteAnswered(d, pdu, this.ctx.now());
    d.device.noteReplyEnd(performance.now());
    record(frame.length, { exception: ((d.pdu[0] ?? 0) & 0x80) !== 0 });
  }
}

/** The MBAP reply; a truncated reply keeps a consistent header so the client sees a short PDU. */
function tcpReply(tid: number, d: Extract<Decision, { kind: 'reply' }>): Buffer {
  if (d.fault?.spec.kind === 'truncated') {
    const keep = d.fault.spec.keepBytes ?? Math.floor(d.pdu.length / 2);
    return mbapFrame(tid, d.unitId, d.pdu.subarray(0, Math.max(1, Math.min(keep, d.pdu.length - 1))));
  }
  return damage(mbapFrame(tid, d.unitId, d.pdu), d.fault);
}

/** Raw RTU frames over TCP: every connection feeds the same half-duplex bus. */
export class RtuOverTcpServer extends TcpListener {
  constructor(
    private readonly bus: RtuBus,
    private readonly framer: (bus: RtuBus, onFrame: (frame: Buffer) => void) => RtuRequestFramer,
    name: string,
  ) {
    super(name);
  }

  protected accept(socket: Socket): void {
    const framer = this.framer(this.bus, (frame) =>
      this.bus.submit({
        frame,
        send: (bytes) => {
          if (socket.destroyed) return false;
          socket.write(bytes);
          return true;
        },
        drop: () => socket.destroy(),
      }),
    );
    socket.on('data', (chunk) => framer.push(chunk));
    socket.on('close', () => framer.close());
  }
}
