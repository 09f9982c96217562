/** "Did you mean …" for misspelt ids: the closest known id by edit distance, if close enough. */

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known id nearest to `wanted`, when at most a third of it (and at least 2 edits) differs. */
export function closest(wanted: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  let best: { id: string; d: number } | undefined;
  for (const id of known) {
    const d = distance(wanted.toLowerCase(), id.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { id, d };
  }
  return best?.id;
}

/** A hint naming the closest id, or listing the known ones when there are few. */
export function didYouMean(wanted: string, known: Iterable<string>, what: string): string {
  const list = [...known];
  const near = closest(wanted, list);
  if (near !== undefined) return `did you mean ${near}?`;
  if (list.length === 0) return `no ${what} is defined`;
  const whats = `${what}${what.endsWith('s') ? 'es' : 's'}`;
  if (list.length <= 6) return `known ${whats}: ${list.join(', ')}`;
  return `see the list of ${whats}`;
}
