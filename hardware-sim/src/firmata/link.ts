/**
 * The serial line of an emulated Firmata board: a TCP listener (one host at a time, like a
 * serial port) and, optionally, a pseudo-terminal made by socat that a host opens like the
 * board's USB serial device. socat is started with `wait-slave`, so it connects to the listener
 * only when the host opens the pty: opening the port resets the board, as the auto-reset of a
 * USB board does. When the host closes the pty socat ends; a new one is started at once for the
 * next open.
 *
 * Faults: `drop(offMs)` pulls the cable (the TCP connection is cut, the pty disappears) and
 * puts it back after `offMs`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { LantianError } from '../../../gateway/src/core/index.js';
import { endChild } from '../transport/child.js';
import type { FirmataBoard } from './board.js';

const START_TIMEOUT_MS = 5000;

export interface FirmataLinkOptions {
  board: FirmataBoard;
  /** TCP host to listen on; default 127.0.0.1, port 0 = any free port. */
  host?: string;
  port?: number;
  /** When set, a pty at this path (a symlink socat creates) that hosts open as the serial port. */
  ptyPath?: string;
}

export class FirmataLink {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private socat: ChildProcess | undefined;
  private down = false;
  private closed = false;
  private upTimer: NodeJS.Timeout | undefined;
  /** Number of times a host opened the line. */
  opens = 0;

  private constructor(private readonly o: FirmataLinkOptions) {}

  static async open(o: FirmataLinkOptions): Promise<FirmataLink> {
    const link = new FirmataLink(o);
    await link.listen();
    if (o.ptyPath) await link.startPty();
    return link;
  }

  /** host:port of the TCP listener. */
  get address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('link is not listening');
    return { host: a.address, port: a.port };
  }

  get ptyPath(): string | undefined {
    return this.o.ptyPath;
  }

  private async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause) =>
        reject(new LantianError('SIM_LISTEN_FAILED', 'firmata board: cannot listen', { cause })),
      );
      server.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', () => resolve());
    });
  }

  private accept(socket: Socket): void {
    if (this.down || this.closed) {
      socket.destroy();
      return;
    }
    // A new opener takes the line, as re-opening a serial port does.
    this.socket?.destroy();
    this.socket = socket;
    this.opens++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.o.board.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.o.board.detach();
      }
    });
    this.o.board.attach((bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    });
  }

  private async startPty(): Promise<void> {
    if (this.closed || this.down || !this.o.ptyPath) return;
    const { port } = this.address;
    const path = this.o.ptyPath;
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,wait-slave,link=${this.o.ptyPath}`, `tcp:127.0.0.1:${port},nodelay`],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    this.socat = child;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new LantianError('SIM_PTY_FAILED', 'firmata board: socat did not create the pty in time'));
      }, START_TIMEOUT_MS);
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        // With wait-slave socat reports the pty's name, then waits for the host to open it.
        if (/PTY is /.test(err)) void linked();
      });
      // socat names the pty before it makes the link: wait for the link itself.
      const linked = async () => {
        while (!existsSync(path) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
        clearTimeout(timer);
        resolve();
      };
      child.once('exit', () => {
        clearTimeout(timer);
        reject(
          new LantianError(
            'SIM_PTY_FAILED',
            `firmata board: socat exited: ${err.trim().split('\n').pop() ?? ''}`,
          ),
        );
      });
      child.once('error', (cause) => {
        clearTimeout(timer);
        reject(
          new LantianError('SIM_PTY_FAILED', 'firmata board: cannot run socat (is it installed?)', { cause }),
        );
      });
    });
    child.once('exit', () => {
      if (this.socat === child) this.socat = undefined;
      // The host closed the port (or the cable was pulled): offer a fresh pty for the next open.
      if (!this.closed && !this.down) void this.startPty().catch(() => undefined);
    });
  }

  private async stopPty(): Promise<void> {
    const child = this.socat;
    this.socat = undefined;
    await endChild(child);
  }

  /** Pulls the cable for `offMs`: the host's port closes; the line comes back afterwards. */
  async drop(offMs: number): Promise<void> {
    this.down = true;
    this.socket?.destroy();
    await this.stopPty();
    clearTimeout(this.upTimer);
    this.upTimer = setTimeout(() => {
      this.down = false;
      void this.startPty().catch(() => undefined);
    }, offMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.upTimer);
    this.socket?.destroy();
    this.o.board.detach();
    await this.stopPty();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
