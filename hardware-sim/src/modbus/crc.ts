/**
 * CRC-16/MODBUS, written here (not taken from a Modbus library) so the simulator stays an
 * independent witness: polynomial 0x8005 reflected (0xA001), init 0xFFFF, no final XOR,
 * sent low byte first.
 */
const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
}

export function crc16modbus(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]!) & 0xff]!;
  return crc;
}

/** Appends the CRC, low byte first, as it goes on the wire. */
export function withCrc(body: Uint8Array): Buffer {
  const crc = crc16modbus(body);
  const out = Buffer.alloc(body.length + 2);
  out.set(body);
  out.writeUInt16LE(crc, body.length);
  return out;
}

/** True when the last two bytes are the CRC of everything before them. */
export function crcValid(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const expected = crc16modbus(frame, 0, frame.length - 2);
  return frame[frame.length - 2] === (expected & 0xff) && frame[frame.length - 1] === expected >>> 8;
}
