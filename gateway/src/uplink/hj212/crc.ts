/**
 * Packet checksums. HJ 212 Appendix A defines its own "ANSI CRC16": unlike CRC-16/MODBUS each
 * step shifts the register right by a byte before mixing in the next one. Some fielded platforms
 * expect the Modbus CRC instead, so the variant is chosen per platform.
 */

export const CRC_VARIANTS = ['hj212', 'modbus', 'modbus-swapped'] as const;
export type CrcVariant = (typeof CRC_VARIANTS)[number];

/** HJ 212-2017 Appendix A, over the data segment's UTF-8 bytes. */
export function hj212Crc(bytes: Uint8Array): number {
  let reg = 0xffff;
  for (const b of bytes) {
    reg = (reg >> 8) ^ b;
    for (let i = 0; i < 8; i++) {
      const lsb = reg & 1;
      reg >>= 1;
      if (lsb) reg ^= 0xa001;
    }
  }
  return reg;
}

/** CRC-16/MODBUS (register printed high byte first). */
export function modbusCrc(bytes: Uint8Array): number {
  let reg = 0xffff;
  for (const b of bytes) {
    reg ^= b;
    for (let i = 0; i < 8; i++) {
      const lsb = reg & 1;
      reg >>= 1;
      if (lsb) reg ^= 0xa001;
    }
  }
  return reg;
}

export function crcOf(variant: CrcVariant, bytes: Uint8Array): number {
  switch (variant) {
    case 'hj212':
      return hj212Crc(bytes);
    case 'modbus':
      return modbusCrc(bytes);
    case 'modbus-swapped': {
      // The byte order Modbus puts on the wire (low byte first), as some platforms print it.
      const r = modbusCrc(bytes);
      return ((r & 0xff) << 8) | (r >> 8);
    }
  }
}

/** Four upper-case hex digits, zero-padded (a CRC of 0 is `0000`, never `0`). */
export function crcText(variant: CrcVariant, bytes: Uint8Array): string {
  return crcOf(variant, bytes).toString(16).toUpperCase().padStart(4, '0');
}
