/**
 * A serial line through a pseudo-terminal pair made by socat: the simulator holds one end, the
 * gateway opens the other (its path is the bus address) with serialport, as it would a USB
 * RS-485 adapter. The simulator's end is read and written through tty streams (non-blocking,
 * unlike fs streams, which would each hold a thread-pool thread). A pty carries bytes with no
 * timing, so the wire model is applied by delaying writes, never by the pty itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { endChild } from './child.js';
import { LantianError, type Logger } from '../../../gateway/src/core/index.js';

/** Bytes queued on our end before further writes are lost, as a UART loses bytes nobody reads. */
const MAX_BACKLOG = 4096;
const START_TIMEOUT_MS = 5000;

export interface PtyOptions {
  /** Path of the end the gateway opens (a symlink socat creates). */
  link: string;
  /** Path of the simulator's end. */
  simLink: string;
  bus: string;
  onData(chunk: Buffer): void;
  log: Logger;
}

export class PtyLine {
  private socat: ChildProcess | undefined;
  private reader: ReadStream | undefined;
  private writer: WriteStream | undefined;
  private closed = false;
  private restarting: Promise<void> | undefined;

  private constructor(private readonly o: PtyOptions) {}

  static async open(o: PtyOptions): Promise<PtyLine> {
    const line = new PtyLine(o);
    await line.start();
    return line;
  }

  get path(): string {
    return this.o.link;
  }

  private async start(): Promise<void> {
    const args = ['-d', '-d', `pty,raw,echo=0,link=${this.o.simLink}`, `pty,raw,echo=0,link=${this.o.link}`];
    // In its own process group: a Ctrl-C in the terminal stops the simulator (which then ends
    // socat itself), not the line under a gateway that is still draining.
    const child = spawn('socat', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.socat = child;
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string, cause?: unknown) => {
        clearTimeout(timer);
        child.kill('SIGTERM');
        reject(
          new LantianError('SIM_PTY_FAILED', `bus ${this.o.bus}: ${message}`, {
            cause,
            context: { bus: this.o.bus, link: this.o.link },
          }),
        );
      };
      const timer = setTimeout(() => fail('socat did not set up the pty pair in time'), START_TIMEOUT_MS);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('starting data transfer loop')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (cause) => fail('cannot run socat (is it installed?)', cause));
      child.once('exit', (code) =>
        fail(`socat exited with code ${code}: ${err.trim().split('\n').pop() ?? ''}`),
      );
    });
    child.removeAllListeners('exit');
    child.once('exit', () => {
      if (!this.closed && !this.restarting) this.o.log.warn({ bus: this.o.bus }, 'socat exited');
    });
    // Separate descriptors for reading and writing, so each stream closes only its own.
    const flags = constants.O_RDWR | constants.O_NOCTTY;
    const rfd = openSync(this.o.simLink, flags);
    let wfd: number;
    try {
      wfd = openSync(this.o.simLink, flags);
    } catch (cause) {
      closeSync(rfd);
      throw new LantianError('SIM_PTY_FAILED', `bus ${this.o.bus}: cannot open ${this.o.simLink}`, { cause });
    }
    this.reader = new ReadStream(rfd);
    this.writer = new WriteStream(wfd);
    this.reader.on('data', (chunk: Buffer) => this.o.onData(chunk));
    this.reader.on('error', () => undefined);
    this.writer.on('error', () => undefined);
  }

  /** Writes bytes onto the line; returns false when they were lost because nobody reads. */
  write(bytes: Buffer): boolean {
    const w = this.writer;
    if (!w || w.destroyed || w.writableLength > MAX_BACKLOG) return false;
    w.write(bytes);
    return true;
  }

  /**
   * Breaks the line for `offMs` (an unplugged adapter): socat exits, the gateway's port sees
   * the line hang up, and a new pty pair appears at the same path.
   */
  restart(offMs: number): Promise<void> {
    if (this.restarting) return this.restarting;
    this.restarting = (async () => {
      await this.stop();
      await new Promise((r) => setTimeout(r, offMs));
      if (!this.closed) await this.start();
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  private async stop(): Promise<void> {
    this.reader?.destroy();
    this.writer?.destroy();
    this.reader = this.writer = undefined;
    const child = this.socat;
    this.socat = undefined;
    await endChild(child);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.restarting?.catch(() => undefined);
    await this.stop();
  }
}
