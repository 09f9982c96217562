/**
 * The link to the Firmata board, on johnny-five 2.1 over serialport, and everything johnny-five
 * does not do by itself (../shared/reference/johnny-five.md rows 6-8):
 *
 * - it notices a dead link: a pin-state query goes out every `staleAfterMs / 3`; when no answer
 *   came for `staleAfterMs` the port is closed and the link is down (a pulled cable or a pty
 *   whose far end went away does not always close the port);
 * - it reconnects with backoff (0.5 s doubling to 30 s) and builds a fresh johnny-five board
 *   each time, so no value cached from before the drop is ever used;
 * - it treats a version report after `ready` as a board reboot (outputs fell LOW, reporting
 *   stopped) and sets everything up again;
 * - it reports the time of each real analog and digital message, so stale inputs are visible.
 *
 * Pin modes are always set explicitly (PULLUP for contacts, OUTPUT for relays); nothing relies
 * on StandardFirmata's reset defaults.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { SerialPort } from 'serialport';
import type bindFirmata from 'firmata-io';
import type five from 'johnny-five';
import type { Clock } from '../../gateway/src/core/clock.js';
import type { Logger } from '../../gateway/src/core/logger.js';

interface BoardLibraries {
  five: typeof five;
  Firmata: typeof bindFirmata.Firmata;
  SerialPort: typeof SerialPort;
}

let libraries: BoardLibraries | undefined;

/**
 * johnny-five and firmata-io (with what they pull in, some 2 MB of heap) load with the first
 * connection, so a gateway without site I/O never carries them (docs/footprint.md).
 */
function boardLibraries(): BoardLibraries {
  if (!libraries) {
    const require = createRequire(import.meta.url);
    libraries = {
      five: require('johnny-five') as typeof five,
      Firmata: (require('firmata-io') as typeof bindFirmata).Firmata,
      SerialPort: (require('serialport') as { SerialPort: typeof SerialPort }).SerialPort,
    };
  }
  return libraries;
}

const PIN_STATE_QUERY = 0x6d;
const READY_TIMEOUT_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export interface BoardPlan {
  port: string;
  baud: number;
  staleAfterMs: number;
  /** Analog channels to report (A0 = 0). */
  analog: number[];
  /** Contact input pins (set to INPUT_PULLUP). */
  contacts: number[];
  /** Relay output pins with their polarity. */
  relays: { pin: number; activeLow: boolean }[];
}

export type LinkState = 'connecting' | 'up' | 'down';

export interface BoardLinkEvents {
  up: [info: { firmware: string; attempt: number }];
  down: [reason: string];
  reboot: [];
  analog: [channel: number, counts: number];
  digital: [pin: number, level: 0 | 1];
}

export class BoardLink extends EventEmitter<BoardLinkEvents> {
  private state: LinkState = 'down';
  private port: SerialPort | undefined;
  private board: five.Board | undefined;
  private relays = new Map<number, five.Relay>();
  private energised = new Map<number, boolean>();
  private lastAnswer = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = true;
  private generation = 0;

  constructor(
    private readonly plan: BoardPlan,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    super();
  }

  get linkState(): LinkState {
    return this.state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.teardown();
    this.state = 'down';
  }

  /** Energises or releases a relay; remembered and re-applied after a reconnect or reboot. */
  setRelay(pin: number, on: boolean): void {
    if (this.energised.get(pin) === on) return;
    this.energised.set(pin, on);
    if (this.state === 'up') this.drive(pin);
  }

  private drive(pin: number): void {
    const relay = this.relays.get(pin);
    if (!relay) return;
    if (this.energised.get(pin)) relay.close();
    else relay.open();
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    this.attempt++;
    const generation = ++this.generation;
    const { five, Firmata, SerialPort } = boardLibraries();
    const port = new SerialPort({ path: this.plan.port, baudRate: this.plan.baud });
    this.port = port;
    const io = new Firmata(port);
    // Before johnny-five attaches its own listeners (only after ready): an error while opening
    // must not become an unhandled 'error' event.
    io.on('error', (e: unknown) => this.lost(generation, `serial error: ${String(e)}`));
    port.on('error', (e) => this.lost(generation, `serial error: ${e.message}`));
    port.on('close', () => this.lost(generation, 'port closed'));
    const board = new five.Board({ io, repl: false, debug: false });
    // Once ready, johnny-five passes the io's errors on as the board's own 'error' event (a write
    // to a port whose pty just went away fails with EIO): unheard, it would crash the gateway.
    board.on('error', (e: unknown) => this.lost(generation, `board error: ${String(e)}`));
    this.board = board;
    this.readyTimer = setTimeout(() => this.lost(generation, 'board did not become ready'), READY_TIMEOUT_MS);
    board.once('ready', () => {
      clearTimeout(this.readyTimer);
      if (generation !== this.generation) return;
      this.setUp(board);
      io.on('reportversion', () => {
        if (generation !== this.generation || this.state !== 'up') return;
        this.logger.warn({ port: this.plan.port }, 'site I/O board rebooted; setting it up again');
        this.emit('reboot');
        this.setUp(board);
      });
      this.state = 'up';
      this.lastAnswer = this.clock.monotonic();
      this.startWatchdog(board, generation);
      const attempt = this.attempt;
      this.attempt = 0;
      this.emit('up', { firmware: io.firmware.name, attempt });
    });
  }

  /** Pin modes, reporting and relay levels, from scratch. */
  private setUp(board: five.Board): void {
    const { Relay } = boardLibraries().five;
    const io = board.io;
    // All modes first: a port report answers the first read at once, and must not catch a
    // contact pin still in its reset mode.
    for (const pin of this.plan.contacts) io.pinMode(pin, io.MODES.PULLUP);
    for (const pin of this.plan.contacts) {
      io.removeAllListeners(`digital-read-${pin}`);
      io.digitalRead(pin, (v) => this.emit('digital', pin, v ? 1 : 0));
    }
    for (const { pin, activeLow } of this.plan.relays) {
      io.pinMode(pin, io.MODES.OUTPUT);
      if (!this.relays.has(pin) || this.board !== board)
        this.relays.set(pin, new Relay({ pin, board, type: activeLow ? 'NC' : 'NO' }));
      this.drive(pin);
    }
    for (const ch of this.plan.analog) {
      io.removeAllListeners(`analog-read-${ch}`);
      io.analogRead(ch, (v) => this.emit('analog', ch, v));
    }
    for (const pin of this.pingPins()) {
      io.removeAllListeners(`pin-state-${pin}`);
      io.on(`pin-state-${pin}`, () => (this.lastAnswer = this.clock.monotonic()));
    }
  }

  private pingPins(): number[] {
    return [this.plan.relays[0]?.pin ?? this.plan.contacts[0] ?? 2];
  }

  private startWatchdog(board: five.Board, generation: number): void {
    const every = Math.max(50, Math.floor(this.plan.staleAfterMs / 3));
    const tick = () => {
      if (generation !== this.generation || this.state !== 'up') return;
      if (this.clock.monotonic() - this.lastAnswer > this.plan.staleAfterMs) {
        this.lost(generation, `no answer from the board for ${this.plan.staleAfterMs} ms`);
        return;
      }
      for (const pin of this.pingPins())
        (board.io as unknown as { sysexCommand(b: number[]): void }).sysexCommand([PIN_STATE_QUERY, pin]);
      this.watchdog = setTimeout(tick, every);
    };
    this.watchdog = setTimeout(tick, every);
  }

  private lost(generation: number, reason: string): void {
    if (generation !== this.generation || this.stopped) return;
    this.generation++; // everything from the old connection is ignored from now on
    const wasUp = this.state === 'up';
    this.state = 'down';
    void this.teardown();
    if (wasUp) this.logger.warn({ port: this.plan.port, reason }, 'site I/O board link down');
    this.emit('down', reason);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, this.attempt - 1));
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  private async teardown(): Promise<void> {
    clearTimeout(this.watchdog);
    clearTimeout(this.readyTimer);
    this.relays.clear();
    const port = this.port;
    this.port = undefined;
    this.board = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
