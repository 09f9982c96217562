/**
 * A board running StandardFirmata 2.5, Uno layout, as the host sees it over its serial line:
 * written from the Firmata protocol document and the documented StandardFirmata behaviour
 * (reset defaults, reporting rules), not from any host library.
 *
 * Pins 0 and 1 are the serial line itself and offer no modes; 2-13 are digital (PWM on 3, 5, 6,
 * 9, 10, 11); 14-19 are A0-A5, analog or digital. After power-on or a reset analog pins are
 * ANALOG, other digital pins OUTPUT LOW, and nothing reports until the host asks. A contact
 * wired between an input pin and ground reads low when closed and high when open only if the
 * pull-up is on: without it the pin floats, modelled as reading low, so a host that forgets the
 * pull-up sees a closed contact.
 *
 * The board talks through a sink the link gives it; opening the line resets the board (the
 * auto-reset of a USB board), which then announces its version and firmware after `bootMs`.
 */
import { EventEmitter } from 'node:events';
import * as P from './protocol.js';

export const TOTAL_PINS = 20;
export const FIRST_ANALOG_PIN = 14;
const PWM_PINS = new Set([3, 5, 6, 9, 10, 11]);
const ANALOG_MAX = 1023;
const DEFAULT_SAMPLING_MS = 19;
/** The emulator's floor: its reports are timers, not a main loop. */
const MIN_SAMPLING_MS = 10;

interface Pin {
  mode: P.PinMode;
  /** Output level, PWM duty, or for inputs whether the pull-up is on (the protocol's "state"). */
  state: number;
  /** For inputs: whether the contact wired to it is closed (pulls the pin to ground). */
  contactClosed: boolean;
}

export interface FirmataBoardOptions {
  /** Name in the firmware report; default StandardFirmata. */
  firmware?: string;
  /** Ms from power-on to the version announcement; default 50. */
  bootMs?: number;
}

export interface BoardEvents {
  /** A digital output changed level (pin, level). */
  output: [pin: number, level: 0 | 1];
  /** The host set a pin's mode. */
  mode: [pin: number, mode: P.PinMode];
  /** The board came out of reset and announced itself. */
  ready: [];
}

/** Pin number of an analog channel (A0 -> 14). */
export function analogPin(name: string | number): number {
  if (typeof name === 'number') return name;
  const m = /^A([0-5])$/.exec(name);
  if (!m) throw new RangeError(`not an analog pin of this board: ${name}`);
  return FIRST_ANALOG_PIN + Number(m[1]);
}

export class FirmataBoard extends EventEmitter<BoardEvents> {
  private pins: Pin[] = [];
  private readonly analogCounts = new Array<number>(TOTAL_PINS - FIRST_ANALOG_PIN).fill(0);
  private readonly reportAnalog = new Set<number>();
  private readonly reportDigital = new Set<number>();
  private readonly lastPortValue = new Map<number, number>();
  private samplingMs = DEFAULT_SAMPLING_MS;
  private sink: ((bytes: Buffer) => void) | undefined;
  private booting: NodeJS.Timeout | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private rx: number[] = [];
  private inSysex = false;
  private stale = false;
  private readonly firmware: string;
  private readonly bootMs: number;
  /** Messages the board has answered or acted on, by kind (for tests and the status view). */
  readonly received = new Map<string, number>();

  constructor(o: FirmataBoardOptions = {}) {
    super();
    this.firmware = o.firmware ?? 'StandardFirmata';
    this.bootMs = o.bootMs ?? 50;
    this.resetPins();
  }

  // --- the line -------------------------------------------------------------------------

  /** The host opened the line: the board resets and announces itself after its boot time. */
  attach(sink: (bytes: Buffer) => void): void {
    this.sink = sink;
    this.powerOn();
  }

  /** The line closed: the board keeps running but nobody hears it. */
  detach(): void {
    this.sink = undefined;
    this.stopTimers();
  }

  /** Bytes from the host. */
  receive(chunk: Buffer): void {
    if (this.booting) return; // the bootloader, not Firmata, has the line
    for (const byte of chunk) this.feed(byte);
  }

  // --- scripted inputs and observations -------------------------------------------------

  /** Sets the ADC reading of an analog pin (0-1023). */
  setAnalog(pin: string | number, counts: number): void {
    const ch = analogPin(pin) - FIRST_ANALOG_PIN;
    if (ch < 0 || ch >= this.analogCounts.length) throw new RangeError(`pin ${pin} is not analog`);
    this.analogCounts[ch] = Math.max(0, Math.min(ANALOG_MAX, Math.round(counts)));
  }

  /** Sets an analog pin's voltage against the 5 V reference. */
  setVolts(pin: string | number, volts: number): void {
    this.setAnalog(pin, (volts / 5) * ANALOG_MAX);
  }

  /** Closes or opens the dry contact wired between a pin and ground. */
  setContact(pin: number, closed: boolean): void {
    const p = this.pin(pin);
    p.contactClosed = closed;
    this.reportPorts();
  }

  /** The level a pin drives (outputs) or reads (inputs). */
  level(pin: number): 0 | 1 {
    const p = this.pin(pin);
    if (p.mode === P.Mode.OUTPUT) return p.state ? 1 : 0;
    if (p.mode === P.Mode.INPUT || p.mode === P.Mode.PULLUP) return !p.contactClosed && p.state ? 1 : 0;
    return 0;
  }

  mode(pin: number): P.PinMode {
    return this.pin(pin).mode;
  }

  get samplingIntervalMs(): number {
    return this.samplingMs;
  }

  get attached(): boolean {
    return this.sink !== undefined;
  }

  // --- faults ---------------------------------------------------------------------------

  /** A power blip or watchdog reset: outputs fall low, reporting stops, the board re-announces. */
  reset(): void {
    if (this.sink) this.powerOn();
    else this.resetPins();
  }

  /** Stale inputs: the board stays on the line and answers, but its reports stop. */
  setStale(stale: boolean): void {
    this.stale = stale;
  }

  // --- internals ------------------------------------------------------------------------

  private pin(n: number): Pin {
    const p = this.pins[n];
    if (!p) throw new RangeError(`pin ${n} does not exist on this board`);
    return p;
  }

  private powerOn(): void {
    this.stopTimers();
    this.rx = [];
    this.inSysex = false;
    this.resetPins();
    this.booting = setTimeout(() => {
      this.booting = undefined;
      this.send([P.REPORT_VERSION, ...P.PROTOCOL_VERSION]);
      this.sendFirmware();
      this.schedule();
      this.emit('ready');
    }, this.bootMs);
  }

  private stopTimers(): void {
    clearTimeout(this.booting);
    clearTimeout(this.sampler);
    this.booting = this.sampler = undefined;
  }

  /** StandardFirmata's system reset: analog pins ANALOG, the rest OUTPUT LOW, no reporting. */
  private resetPins(): void {
    const before = this.pins;
    this.pins = Array.from({ length: TOTAL_PINS }, (_, n) => ({
      mode: n >= FIRST_ANALOG_PIN ? P.Mode.ANALOG : P.Mode.OUTPUT,
      state: 0,
      contactClosed: before[n]?.contactClosed ?? false,
    }));
    this.reportAnalog.clear();
    this.reportDigital.clear();
    this.lastPortValue.clear();
    this.samplingMs = DEFAULT_SAMPLING_MS;
    before.forEach((p, n) => {
      if (p.mode === P.Mode.OUTPUT && p.state) this.emit('output', n, 0);
    });
  }

  private send(bytes: number[]): void {
    this.sink?.(Buffer.from(bytes));
  }

  private sendFirmware(): void {
    this.send([
      P.START_SYSEX,
      P.REPORT_FIRMWARE,
      ...P.PROTOCOL_VERSION,
      ...P.sevenBitString(this.firmware),
      P.END_SYSEX,
    ]);
  }

  private count(kind: string): void {
    this.received.set(kind, (this.received.get(kind) ?? 0) + 1);
  }

  private feed(byte: number): void {
    if (this.inSysex) {
      if (byte === P.END_SYSEX) {
        this.inSysex = false;
        this.sysex(this.rx);
        this.rx = [];
      } else if (byte >= 0x80) {
        this.inSysex = byte === P.START_SYSEX; // a command inside a sysex aborts it
        this.rx = [];
        if (!this.inSysex) this.feed(byte);
      } else this.rx.push(byte);
      return;
    }
    if (byte === P.START_SYSEX) {
      this.inSysex = true;
      this.rx = [];
      return;
    }
    if (byte >= 0x80) this.rx = [byte];
    else if (this.rx.length > 0) this.rx.push(byte);
    else return; // a data byte with no command: noise
    const command = this.rx[0]!;
    if (this.rx.length - 1 < P.dataLength(command)) return;
    const [, a = 0, b = 0] = this.rx;
    this.rx = [];
    this.command(command, a, b);
  }

  private command(command: number, a: number, b: number): void {
    const high = command < P.START_SYSEX ? command & 0xf0 : command;
    const channel = command & 0x0f;
    switch (high) {
      case P.DIGITAL_MESSAGE:
        this.count('digital-write');
        this.writePort(channel, P.fromSevenBit(a, b));
        break;
      case P.SET_DIGITAL_PIN_VALUE:
        this.count('digital-write');
        if (a < TOTAL_PINS) this.writePin(a, b ? 1 : 0);
        break;
      case P.SET_PIN_MODE:
        this.count('pin-mode');
        this.setMode(a, b);
        break;
      case P.REPORT_ANALOG:
        this.count('report-analog');
        if (channel >= this.analogCounts.length) break;
        if (a) {
          this.reportAnalog.add(channel);
          this.sendAnalog(channel); // 2.4: report on enabling
        } else this.reportAnalog.delete(channel);
        break;
      case P.REPORT_DIGITAL:
        this.count('report-digital');
        if (a) {
          this.reportDigital.add(channel);
          this.sendPort(channel);
        } else this.reportDigital.delete(channel);
        break;
      case P.REPORT_VERSION:
        this.count('version');
        this.send([P.REPORT_VERSION, ...P.PROTOCOL_VERSION]);
        break;
      case P.SYSTEM_RESET:
        this.count('system-reset');
        this.resetPins();
        break;
      default:
        break;
    }
  }

  private sysex(data: number[]): void {
    const [id, ...args] = data;
    if (id === undefined) return;
    switch (id) {
      case P.REPORT_FIRMWARE:
        this.count('firmware');
        this.sendFirmware();
        break;
      case P.CAPABILITY_QUERY:
        this.count('capability');
        this.send([
          P.START_SYSEX,
          P.CAPABILITY_RESPONSE,
          ...this.pins.flatMap((_, n) => [...capabilities(n), P.NONE]),
          P.END_SYSEX,
        ]);
        break;
      case P.ANALOG_MAPPING_QUERY:
        this.count('analog-mapping');
        this.send([
          P.START_SYSEX,
          P.ANALOG_MAPPING_RESPONSE,
          ...this.pins.map((_, n) => (n >= FIRST_ANALOG_PIN ? n - FIRST_ANALOG_PIN : P.NONE)),
          P.END_SYSEX,
        ]);
        break;
      case P.PIN_STATE_QUERY: {
        this.count('pin-state');
        const n = args[0] ?? P.NONE;
        const p = this.pins[n];
        if (!p) break;
        this.send([P.START_SYSEX, P.PIN_STATE_RESPONSE, n, p.mode, ...P.sevenBit(p.state), P.END_SYSEX]);
        break;
      }
      case P.SAMPLING_INTERVAL:
        this.count('sampling-interval');
        this.samplingMs = Math.max(MIN_SAMPLING_MS, P.fromSevenBit(args[0] ?? 0, args[1] ?? 0));
        this.schedule();
        break;
      case P.EXTENDED_ANALOG:
        this.count('analog-write');
        if (args[0] !== undefined && this.pins[args[0]]?.mode === P.Mode.PWM)
          this.pins[args[0]]!.state = P.fromSevenBit(args[1] ?? 0, args[2] ?? 0);
        break;
      default:
        this.count('unknown-sysex');
    }
  }

  private setMode(n: number, mode: number): void {
    const p = this.pins[n];
    if (!p || !capabilityModes(n).includes(mode)) {
      this.sendString('Unknown pin mode');
      return;
    }
    const wasHigh = p.mode === P.Mode.OUTPUT && p.state === 1;
    p.mode = mode as P.PinMode;
    // OUTPUT starts low; PULLUP turns the resistor on; INPUT turns it off.
    p.state = mode === P.Mode.PULLUP ? 1 : 0;
    if (n >= FIRST_ANALOG_PIN) {
      // As StandardFirmata does: ANALOG mode switches the channel's reporting on, others off.
      if (mode === P.Mode.ANALOG) this.reportAnalog.add(n - FIRST_ANALOG_PIN);
      else this.reportAnalog.delete(n - FIRST_ANALOG_PIN);
    }
    if (wasHigh) this.emit('output', n, 0);
    this.emit('mode', n, p.mode);
    this.reportPorts();
  }

  private writePin(n: number, level: 0 | 1): void {
    const p = this.pins[n];
    if (!p) return;
    if (p.mode === P.Mode.OUTPUT) {
      if (p.state !== level) {
        p.state = level;
        this.emit('output', n, level);
      }
    } else if (p.mode === P.Mode.INPUT || p.mode === P.Mode.PULLUP) {
      // Writing HIGH to an input turns its pull-up on (Firmata 2.5); LOW turns it off.
      p.state = level;
      this.reportPorts();
    }
  }

  private writePort(port: number, bits: number): void {
    for (let i = 0; i < 8; i++) {
      const n = port * 8 + i;
      if (n >= TOTAL_PINS) break;
      const mode = this.pins[n]!.mode;
      if (mode === P.Mode.OUTPUT || mode === P.Mode.INPUT || mode === P.Mode.PULLUP)
        this.writePin(n, (bits >> i) & 1 ? 1 : 0);
    }
  }

  /** The port's input bits as the board reports them (outputs and analog pins read 0). */
  private portValue(port: number): number {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const n = port * 8 + i;
      const p = this.pins[n];
      if (p && (p.mode === P.Mode.INPUT || p.mode === P.Mode.PULLUP) && this.level(n)) v |= 1 << i;
    }
    return v;
  }

  private sendPort(port: number): void {
    const v = this.portValue(port);
    this.lastPortValue.set(port, v);
    if (!this.stale) this.send([P.DIGITAL_MESSAGE | port, ...P.sevenBit(v)]);
  }

  /** Sends each reported port whose inputs changed (StandardFirmata checks every loop). */
  private reportPorts(): void {
    if (!this.sink || this.booting || this.stale) return;
    for (const port of this.reportDigital) {
      if (this.portValue(port) !== this.lastPortValue.get(port)) this.sendPort(port);
    }
  }

  private sendAnalog(channel: number): void {
    if (this.stale) return;
    this.send([P.ANALOG_MESSAGE | channel, ...P.sevenBit(this.analogCounts[channel] ?? 0)]);
  }

  private sendString(text: string): void {
    this.send([P.START_SYSEX, P.STRING_DATA, ...P.sevenBitString(text), P.END_SYSEX]);
  }

  /** Every sampling interval: the reported analog channels (timer restarts on a new interval). */
  private schedule(): void {
    clearTimeout(this.sampler);
    if (!this.sink || this.booting) return;
    this.sampler = setTimeout(() => {
      for (const ch of [...this.reportAnalog].sort((x, y) => x - y)) this.sendAnalog(ch);
      this.reportPorts();
      this.schedule();
    }, this.samplingMs);
  }
}

function capabilityModes(n: number): number[] {
  if (n < 2 || n >= TOTAL_PINS) return [];
  const modes: number[] = [P.Mode.INPUT, P.Mode.OUTPUT, P.Mode.PULLUP];
  if (n >= FIRST_ANALOG_PIN) modes.push(P.Mode.ANALOG);
  if (PWM_PINS.has(n)) modes.push(P.Mode.PWM);
  return modes;
}

/** Mode/resolution pairs of a pin for the capability response. */
function capabilities(n: number): number[] {
  return capabilityModes(n).flatMap((m) => [m, m === P.Mode.ANALOG ? 10 : m === P.Mode.PWM ? 8 : 1]);
}
