/**
 * HJ 212 data flags, used on every reading from the wire to the uplinks.
 * Order of the list is the order of precedence when several apply to one value:
 * a communication failure hides everything else, a fault hides calibration, and so on.
 */
export const FLAGS = {
  B: 'communication failure',
  D: 'instrument fault',
  F: 'instrument stopped',
  M: 'maintenance',
  C: 'calibration',
  S: 'manually set',
  T: 'above measuring range',
  N: 'normal',
} as const;

export type Flag = keyof typeof FLAGS;

export const FLAG_PRECEDENCE: readonly Flag[] = Object.keys(FLAGS) as Flag[];

export function isFlag(value: unknown): value is Flag {
  return typeof value === 'string' && Object.hasOwn(FLAGS, value);
}

/** The flag that wins when several conditions apply at once. */
export function worstFlag(flags: Iterable<Flag>): Flag {
  let best = FLAG_PRECEDENCE.length - 1;
  for (const f of flags) best = Math.min(best, FLAG_PRECEDENCE.indexOf(f));
  return FLAG_PRECEDENCE[best] ?? 'N';
}
