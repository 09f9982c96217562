/**
 * The transport interface the bus and drivers know. The real transport (modbus.ts) frames Modbus
 * itself on serialport or a socket; unit tests use in-memory doubles. Nothing above this folder
 * imports serialport or node:net.
 */
import type { LineSettings } from '../line.js';
import type { FunctionCode } from '../planner.js';

export type TransportKind = 'rtu' | 'tcp' | 'rtu-tcp';

/** Where a bus is and how to speak to it. */
export type LinkSettings =
  | {
      /** Modbus RTU on a local serial port (RS-485 adapter, or a pty in tests). */
      kind: 'rtu';
      path: string;
      line: LineSettings;
    }
  | {
      /** Modbus TCP (MBAP framing), to a device or a Modbus TCP gateway. Port default 502. */
      kind: 'tcp';
      host: string;
      port?: number;
      /**
       * Requests outstanding at once on the connection, told apart by transaction id; default 1.
       * Above 1 the requests of one turn of the event loop share one TCP segment.
       */
      maxInFlight?: number;
    }
  | {
      /**
       * Raw RTU frames over TCP to a transparent serial device server (DTU). `line` describes the
       * serial side, for the planner's cost model; default 9600 8N1.
       */
      kind: 'rtu-tcp';
      host: string;
      port: number;
      line?: LineSettings;
    };

export interface ReadFrame {
  /** Unit id (slave address), 0–255. */
  unitId: number;
  function: FunctionCode;
  /** 0-based PDU address. */
  address: number;
  /** Registers (FC03/04) or bits (FC01/02). */
  count: number;
}

/**
 * A write: FC05 (one coil, `values` [0|1]), FC06 (one register) or FC16 (`count` registers).
 * The device's reply echoes the request (FC16: address and quantity); it carries no data.
 */
export interface WriteFrame {
  unitId: number;
  function: 5 | 6 | 16;
  address: number;
  /** Coils or registers written: `values.length`. */
  count: number;
  values: number[];
}

/** One transaction's request. */
export type Frame = ReadFrame | WriteFrame;

export const isWrite = (frame: Frame): frame is WriteFrame => frame.function >= 5;

export interface Transport {
  readonly kind: TransportKind;
  readonly isOpen: boolean;
  /** Opens the link; rejects with TRANSPORT_CONNECT_FAILED (also when `timeoutMs` passes). */
  open(timeoutMs: number): Promise<void>;
  /**
   * One transaction: a read resolves with exactly `count` registers (FC03/04) or bits as 0/1
   * (FC01/02); a write (WriteFrame) with [] once the device echoed it.
   * Rejects with TRANSPORT_TIMEOUT after `timeoutMs`, TRANSPORT_CLOSED when the link is down or
   * drops meanwhile, MODBUS_EXCEPTION / MODBUS_CRC / MODBUS_BAD_REPLY for what the device sent.
   * Callers never have two reads pending on one transport, except on Modbus TCP, where up to the
   * link's `maxInFlight` may be, each with a transaction id of its own.
   */
  read(frame: Frame, timeoutMs: number): Promise<number[]>;
  /** Closes the link and fails a pending read with TRANSPORT_CLOSED; never rejects. */
  close(): Promise<void>;
  /** `listener` runs once when the link drops by itself (not after `close()`). */
  onDrop(listener: (cause?: unknown) => void): void;
  /**
   * `listener` runs for each reply that answers a request which had already timed out (matched
   * by unit id, function and byte count; on Modbus TCP by transaction id). Such a reply is never
   * taken as the answer to a later request. Optional: in-memory doubles have no late replies.
   */
  onLateReply?(listener: (reply: LateReply) => void): void;
}

export interface LateReply {
  unitId: number;
  function: number;
  /** Time since its request timed out, ms. */
  ageMs: number;
}

export type TransportFactory = (link: LinkSettings) => Transport;
