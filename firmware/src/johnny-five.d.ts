/**
 * The part of johnny-five 2.1 and firmata-io 2.3 the site I/O firmware uses (neither ships
 * types). Kept to what is called, so a wrong call fails the type check.
 */
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';

  interface FirmataIo extends EventEmitter {
    MODES: { INPUT: number; OUTPUT: number; ANALOG: number; PWM: number; PULLUP: number };
    HIGH: number;
    LOW: number;
    isReady: boolean;
    analogPins: number[];
    pins: { mode: number; value: number; analogChannel: number; supportedModes: number[] }[];
    firmware: { name: string; version: { major: number; minor: number } };
    version: { major: number; minor: number };
    analogRead(channel: number, cb: (value: number) => void): void;
    digitalRead(pin: number, cb: (value: number) => void): void;
    reportAnalogPin(channel: number, on: 0 | 1): void;
    reportDigitalPin(pin: number, on: 0 | 1): void;
    pinMode(pin: number, mode: number): void;
    digitalWrite(pin: number, value: number): void;
    transport: { close?(cb?: () => void): void; destroy?(): void };
  }

  export interface BoardOptions {
    io: FirmataIo;
    repl?: boolean;
    debug?: boolean;
    timeout?: number;
  }

  export class Board extends EventEmitter {
    constructor(options: BoardOptions);
    readonly io: FirmataIo;
    readonly isReady: boolean;
    samplingInterval(ms: number): this;
    pinMode(pin: number | string, mode: number): this;
    digitalWrite(pin: number, value: number): this;
  }

  export interface SensorOptions {
    pin: string | number;
    board: Board;
    freq?: number;
    threshold?: number;
  }
  export class Sensor extends EventEmitter {
    constructor(options: SensorOptions);
    readonly value: number;
    readonly raw: number;
    disable(): void;
  }

  export class Relay {
    constructor(options: { pin: number; board: Board; type?: 'NO' | 'NC' });
    readonly isClosed: boolean;
    close(): this;
    open(): this;
  }

  export class Switch extends EventEmitter {
    constructor(options: { pin: number; board: Board; type?: 'NO' | 'NC' });
    readonly isOpen: boolean;
    readonly isClosed: boolean;
  }
}

declare module 'firmata-io' {
  import type { EventEmitter } from 'node:events';
  import type { Board } from 'johnny-five';

  type Io = Board['io'];
  interface FirmataOptions {
    reportVersionTimeout?: number;
    samplingInterval?: number;
  }
  interface FirmataClass {
    new (
      port: EventEmitter & { write(data: Buffer, cb?: () => void): unknown },
      options?: FirmataOptions,
    ): Io;
  }
  const bind: ((transport: unknown) => FirmataClass) & { Firmata: FirmataClass };
  export default bind;
}
