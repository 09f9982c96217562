/**
 * The value types a profile point can have and the registers each occupies: plain data, without
 * zod, so that decoding (in the acquisition thread too) can use them without loading the schemas.
 * schema.ts re-exports both.
 */
export const POINT_TYPES = [
  'u16',
  'i16',
  'u32',
  'i32',
  'u64',
  'i64',
  'f32',
  'f64',
  'string',
  'bcd',
  'bits',
] as const;
export type PointType = (typeof POINT_TYPES)[number];

/** Registers a type occupies; strings and BCD take `length` registers, bits one register. */
export const TYPE_REGISTERS: Record<Exclude<PointType, 'string' | 'bcd'>, number> = {
  u16: 1,
  i16: 1,
  u32: 2,
  i32: 2,
  u64: 4,
  i64: 4,
  f32: 2,
  f64: 4,
  bits: 1,
};
