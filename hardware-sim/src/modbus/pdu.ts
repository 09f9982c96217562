/**
 * The Modbus slave engine at PDU level: one request PDU in, one reply PDU (or silence) out.
 * Checks follow the order of the Modbus Application Protocol state diagrams: function code
 * (exception 01), then quantity and value (03), then address range (02), then execution (04).
 * Written from the specification, not from a Modbus library, to stay an independent witness.
 */

export const EXCEPTION = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  DEVICE_FAILURE: 0x04,
} as const;

/** Largest quantities the protocol allows per function. */
export const MODBUS_LIMITS = {
  readBits: 2000,
  readRegisters: 125,
  writeCoils: 1968,
  writeRegisters: 123,
} as const;

/** Function codes the engine implements. 43 is served for MEI type 14 (read device identification). */
export const ENGINE_FUNCTIONS = [1, 2, 3, 4, 5, 6, 15, 16, 43] as const;

export interface Refused {
  exception: number;
}

export const refused = (exception: number): Refused => ({ exception });
const isRefused = (v: unknown): v is Refused => typeof v === 'object' && v !== null && 'exception' in v;

/** What a device exposes to the engine; addresses are 0-based PDU addresses. */
export interface DataModel {
  supports(fc: number): boolean;
  /** Largest read the device accepts (its own limit, at most the protocol's). */
  maxReadRegisters: number;
  maxReadBits: number;
  readBits(fc: 1 | 2, address: number, quantity: number): boolean[] | Refused;
  readRegisters(fc: 3 | 4, address: number, quantity: number): number[] | Refused;
  writeCoils(address: number, values: boolean[]): Refused | undefined;
  writeRegisters(address: number, values: number[]): Refused | undefined;
  /** Device identification objects by id: 0 vendor, 1 product code, 2 revision, more optional. */
  identification(): Map<number, string>;
}

export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/**
 * Serves one request PDU. Returns the reply PDU, or undefined when nothing is sent (broadcast).
 * `broadcast` requests (unit id 0) execute writes and never answer.
 */
export function servePdu(model: DataModel, pdu: Buffer, broadcast = false): Buffer | undefined {
  const reply = answer(model, pdu);
  return broadcast ? undefined : reply;
}

function answer(model: DataModel, pdu: Buffer): Buffer {
  const fc = pdu[0] ?? 0;
  const supported = (ENGINE_FUNCTIONS as readonly number[]).includes(fc) && model.supports(fc);
  if (!supported) return exceptionPdu(fc, EXCEPTION.ILLEGAL_FUNCTION);
  switch (fc) {
    case 1:
    case 2:
      return readBits(model, fc, pdu);
    case 3:
    case 4:
      return readRegisters(model, fc, pdu);
    case 5:
      return writeSingleCoil(model, pdu);
    case 6:
      return writeSingleRegister(model, pdu);
    case 15:
      return writeMultipleCoils(model, pdu);
    case 16:
      return writeMultipleRegisters(model, pdu);
    default:
      return readDeviceIdentification(model, pdu);
  }
}

/** Address and quantity of a read request, or the exception reply its checks give. */
function readRequest(pdu: Buffer, fc: number, limit: number): { address: number; quantity: number } | Buffer {
  if (pdu.length !== 5) return exceptionPdu(fc, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const quantity = pdu.readUInt16BE(3);
  if (quantity < 1 || quantity > limit) return exceptionPdu(fc, EXCEPTION.ILLEGAL_DATA_VALUE);
  if (address + quantity > 0x10000) return exceptionPdu(fc, EXCEPTION.ILLEGAL_DATA_ADDRESS);
  return { address, quantity };
}

function readBits(model: DataModel, fc: 1 | 2, pdu: Buffer): Buffer {
  const req = readRequest(pdu, fc, Math.min(MODBUS_LIMITS.readBits, model.maxReadBits));
  if (Buffer.isBuffer(req)) return req;
  const bits = model.readBits(fc, req.address, req.quantity);
  if (isRefused(bits)) return exceptionPdu(fc, bits.exception);
  const out = Buffer.alloc(2 + Math.ceil(req.quantity / 8));
  out[0] = fc;
  out[1] = out.length - 2;
  bits.forEach((b, i) => {
    if (b) out[2 + (i >> 3)]! |= 1 << (i & 7);
  });
  return out;
}

function readRegisters(model: DataModel, fc: 3 | 4, pdu: Buffer): Buffer {
  const req = readRequest(pdu, fc, Math.min(MODBUS_LIMITS.readRegisters, model.maxReadRegisters));
  if (Buffer.isBuffer(req)) return req;
  const words = model.readRegisters(fc, req.address, req.quantity);
  if (isRefused(words)) return exceptionPdu(fc, words.exception);
  const out = Buffer.alloc(2 + 2 * req.quantity);
  out[0] = fc;
  out[1] = 2 * req.quantity;
  words.forEach((w, i) => out.writeUInt16BE(w & 0xffff, 2 + 2 * i));
  return out;
}

function writeSingleCoil(model: DataModel, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(5, EXCEPTION.ILLEGAL_DATA_VALUE);
  const value = pdu.readUInt16BE(3);
  if (value !== 0x0000 && value !== 0xff00) return exceptionPdu(5, EXCEPTION.ILLEGAL_DATA_VALUE);
  const r = model.writeCoils(pdu.readUInt16BE(1), [value === 0xff00]);
  return r ? exceptionPdu(5, r.exception) : Buffer.from(pdu);
}

function writeSingleRegister(model: DataModel, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exceptionPdu(6, EXCEPTION.ILLEGAL_DATA_VALUE);
  const r = model.writeRegisters(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)]);
  return r ? exceptionPdu(6, r.exception) : Buffer.from(pdu);
}

function writeMultipleCoils(model: DataModel, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exceptionPdu(15, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const quantity = pdu.readUInt16BE(3);
  const byteCount = pdu[5]!;
  if (
    quantity < 1 ||
    quantity > MODBUS_LIMITS.writeCoils ||
    byteCount !== Math.ceil(quantity / 8) ||
    pdu.length !== 6 + byteCount
  )
    return exceptionPdu(15, EXCEPTION.ILLEGAL_DATA_VALUE);
  if (address + quantity > 0x10000) return exceptionPdu(15, EXCEPTION.ILLEGAL_DATA_ADDRESS);
  const values = Array.from({ length: quantity }, (_, i) => ((pdu[6 + (i >> 3)]! >> (i & 7)) & 1) === 1);
  const r = model.writeCoils(address, values);
  return r ? exceptionPdu(15, r.exception) : pdu.subarray(0, 5);
}

function writeMultipleRegisters(model: DataModel, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exceptionPdu(16, EXCEPTION.ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const quantity = pdu.readUInt16BE(3);
  const byteCount = pdu[5]!;
  if (
    quantity < 1 ||
    quantity > MODBUS_LIMITS.writeRegisters ||
    byteCount !== 2 * quantity ||
    pdu.length !== 6 + byteCount
  )
    return exceptionPdu(16, EXCEPTION.ILLEGAL_DATA_VALUE);
  if (address + quantity > 0x10000) return exceptionPdu(16, EXCEPTION.ILLEGAL_DATA_ADDRESS);
  const values = Array.from({ length: quantity }, (_, i) => pdu.readUInt16BE(6 + 2 * i));
  const r = model.writeRegisters(address, values);
  return r ? exceptionPdu(16, r.exception) : pdu.subarray(0, 5);
}

/** MEI type 14, read device identification: basic (1), regular (2), extended (3), one object (4). */
function readDeviceIdentification(model: DataModel, pdu: Buffer): Buffer {
  if (pdu.length < 2 || pdu[1] !== 0x0e) return exceptionPdu(43, EXCEPTION.ILLEGAL_FUNCTION);
  if (pdu.length !== 4) return exceptionPdu(43, EXCEPTION.ILLEGAL_DATA_VALUE);
  const code = pdu[2]!;
  let objectId = pdu[3]!;
  if (code < 1 || code > 4) return exceptionPdu(43, EXCEPTION.ILLEGAL_DATA_VALUE);
  const objects = model.identification();
  const ranges: Record<number, [number, number]> = { 1: [0, 2], 2: [0, 0x7f], 3: [0, 0xff] };
  let ids: number[];
  if (code === 4) {
    if (!objects.has(objectId)) return exceptionPdu(43, EXCEPTION.ILLEGAL_DATA_ADDRESS);
    ids = [objectId];
  } else {
    const [lo, hi] = ranges[code]!;
    const all = [...objects.keys()].filter((id) => id >= lo && id <= hi).sort((a, b) => a - b);
    // An object id the device does not have restarts the stream at the first object.
    if (!all.includes(objectId)) objectId = all[0] ?? 0;
    ids = all.filter((id) => id >= objectId);
  }
  const parts: Buffer[] = [];
  let size = 7;
  let next = 0;
  for (const id of ids) {
    const value = Buffer.from(objects.get(id) ?? '', 'latin1').subarray(0, 245);
    if (size + 2 + value.length > 253) {
      next = id;
      break;
    }
    parts.push(Buffer.from([id, value.length]), value);
    size += 2 + value.length;
  }
  const highest = Math.max(0, ...objects.keys());
  // Conformity: basic, regular or extended, each with individual access (0x80).
  const conformity = 0x80 | (highest <= 2 ? 1 : highest <= 0x7f ? 2 : 3);
  const head = Buffer.from([43, 0x0e, code, conformity, next ? 0xff : 0x00, next, parts.length / 2]);
  return Buffer.concat([head, ...parts]);
}
