/**
 * The Firmata 2.5 wire vocabulary, written from the protocol document (firmata/protocol,
 * protocol.md): MIDI-style command bytes with the high bit set, 7-bit data bytes, sysex frames.
 * The board side only: what a host sends and what a board answers.
 */

export const DIGITAL_MESSAGE = 0x90;
export const ANALOG_MESSAGE = 0xe0;
export const REPORT_ANALOG = 0xc0;
export const REPORT_DIGITAL = 0xd0;
export const START_SYSEX = 0xf0;
export const SET_PIN_MODE = 0xf4;
export const SET_DIGITAL_PIN_VALUE = 0xf5;
export const END_SYSEX = 0xf7;
export const REPORT_VERSION = 0xf9;
export const SYSTEM_RESET = 0xff;

export const ANALOG_MAPPING_QUERY = 0x69;
export const ANALOG_MAPPING_RESPONSE = 0x6a;
export const CAPABILITY_QUERY = 0x6b;
export const CAPABILITY_RESPONSE = 0x6c;
export const PIN_STATE_QUERY = 0x6d;
export const PIN_STATE_RESPONSE = 0x6e;
export const EXTENDED_ANALOG = 0x6f;
export const STRING_DATA = 0x71;
export const REPORT_FIRMWARE = 0x79;
export const SAMPLING_INTERVAL = 0x7a;

/** Pin modes as the capability response and SET_PIN_MODE number them. */
export const Mode = {
  INPUT: 0x00,
  OUTPUT: 0x01,
  ANALOG: 0x02,
  PWM: 0x03,
  PULLUP: 0x0b,
} as const;
export type PinMode = (typeof Mode)[keyof typeof Mode];

/** Separator closing each pin's list in the capability response; "no channel" in the mapping. */
export const NONE = 0x7f;

/** The protocol version StandardFirmata 2.5 announces. */
export const PROTOCOL_VERSION = [2, 5] as const;

/** A 14-bit value as two 7-bit data bytes, least significant first. */
export function sevenBit(value: number): [number, number] {
  return [value & 0x7f, (value >> 7) & 0x7f];
}

/** Two 7-bit data bytes, least significant first, as one value. */
export function fromSevenBit(lsb: number, msb: number): number {
  return (lsb & 0x7f) | ((msb & 0x7f) << 7);
}

/** A string as the 7-bit byte pairs of REPORT_FIRMWARE and STRING_DATA. */
export function sevenBitString(text: string): number[] {
  return [...Buffer.from(text, 'latin1')].flatMap((c) => sevenBit(c));
}

/** Number of data bytes that follow a (non-sysex) command byte. */
export function dataLength(command: number): number {
  const high = command < START_SYSEX ? command & 0xf0 : command;
  switch (high) {
    case DIGITAL_MESSAGE:
    case ANALOG_MESSAGE:
    case SET_PIN_MODE:
    case SET_DIGITAL_PIN_VALUE:
      return 2;
    case REPORT_ANALOG:
    case REPORT_DIGITAL:
      return 1;
    default:
      return 0;
  }
}
