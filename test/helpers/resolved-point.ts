/**
 * A resolved profile point for tests: an f32 holding register at PDU 0 with every field at its
 * schema default, changed by `over`. Tests name only what matters to them.
 */
import type { ResolvedPoint } from '../../gateway/src/profiles/index.js';

export function resolvedPoint(over: Partial<ResolvedPoint> = {}): ResolvedPoint {
  const pdu = over.pdu ?? 0;
  return {
    key: 'p',
    name: over.key ?? 'p',
    function: 3,
    address: pdu,
    pdu,
    count: 2,
    type: 'f32',
    wordOrder: 'high-first',
    byteOrder: 'big',
    scale: 1,
    offset: 0,
    unit: '',
    access: 'r',
    role: 'measurement',
    ...over,
  };
}
