/**
 * Long messages are split on CP item boundaries (HJ 212 C.49/C.50): every part carries the
 * leading items that are not pollutant data (DataTime), its own QN, the D bit and PNUM/PNO.
 */
import { LantianError } from '../../core/errors.js';
import { MAX_SEGMENT_BYTES, segmentBytes } from './build.js';
import { FLAG_SPLIT, type CpItem, type Packet } from './packet.js';

/** Leading items without a factor code (`DataTime`, `BeginTime`): repeated in every part. */
function sharedCount(cp: readonly CpItem[]): number {
  let n = 0;
  while (n < cp.length && cp[n]!.every((f) => !f.name.includes('-'))) n++;
  return n;
}

/**
 * The packet itself when its data segment fits `maxBytes`, else its parts: the first keeps the
 * packet's QN, the others take `nextQn()`. Throws HJ212_BUILD if one item alone does not fit.
 */
export function splitPacket(p: Packet, nextQn: () => string, maxBytes = MAX_SEGMENT_BYTES): Packet[] {
  if (segmentBytes(p) <= maxBytes) return [p];
  const shared = p.cp.slice(0, sharedCount(p.cp));
  const groups: CpItem[][] = [];
  let current: CpItem[] = [];
  // Sized with PNUM=9999;PNO=9999 so that the real numbers can only make a part shorter.
  const fits = (items: CpItem[]) =>
    segmentBytes({ ...p, flag: p.flag | FLAG_SPLIT, pnum: 9999, pno: 9999, cp: [...shared, ...items] }) <=
    maxBytes;
  for (const item of p.cp.slice(shared.length)) {
    if (fits([...current, item])) {
      current.push(item);
      continue;
    }
    // An item that does not fit after others may not fit alone either: it starts no part then.
    if (!fits([item])) {
      throw new LantianError(
        'HJ212_BUILD',
        `CP item ${item[0]?.name ?? '?'} alone exceeds ${maxBytes} bytes`,
        {
          context: { field: 'CP', item: item[0]?.name },
        },
      );
    }
    if (current.length > 0) groups.push(current);
    current = [item];
  }
  if (current.length > 0) groups.push(current);
  return groups.map((items, i) => ({
    ...p,
    qn: i === 0 ? p.qn : nextQn(),
    flag: p.flag | FLAG_SPLIT,
    pnum: groups.length,
    pno: i + 1,
    cp: [...shared, ...items],
  }));
}

/** Joins parts (any order) back into one packet; undefined while a part is missing. */
export function joinParts(parts: readonly Packet[]): Packet | undefined {
  const first = parts.find((p) => p.pno === 1);
  const total = first?.pnum;
  if (!first || total === undefined) return undefined;
  const byNo = new Map(parts.map((p) => [p.pno, p]));
  if (byNo.size !== total) return undefined;
  const shared = sharedCount(first.cp);
  const cp = [...first.cp];
  for (let n = 2; n <= total; n++) {
    const part = byNo.get(n);
    if (!part) return undefined;
    cp.push(...part.cp.slice(shared));
  }
  const { pnum: _pnum, pno: _pno, ...rest } = first;
  return { ...rest, flag: first.flag & ~FLAG_SPLIT, cp };
}
