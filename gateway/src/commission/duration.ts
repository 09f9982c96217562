/** `--duration` as an installer types it: `3m`, `90s`, `1m30s`, `500ms`, `1h`. */
import { LantianError } from '../core/errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** A run shorter than a second sees too few polls to judge; longer than a day is not commissioning. */
export const MIN_DURATION_MS = 1000;
export const MAX_DURATION_MS = 86_400_000;

export function parseDuration(text: string, option = '--duration'): number {
  const trimmed = text.trim();
  const invalid = (why: string) =>
    new LantianError('COMMISSION_OPTION_INVALID', `${option}: "${text}" ${why}`, {
      context: { option, value: text },
    });
  let total = 0;
  let consumed = 0;
  for (const m of trimmed.matchAll(PART)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length)
    throw invalid('is not a duration such as 90s, 3m or 1m30s');
  if (total < MIN_DURATION_MS || total > MAX_DURATION_MS)
    throw invalid(`is outside ${MIN_DURATION_MS / 1000} s to ${MAX_DURATION_MS / 3_600_000} h`);
  return Math.round(total);
}
