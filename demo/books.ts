/**
 * The demo's books, kept from the devices' side: every point value the simulated devices served
 * (with its register words and when it left) against every reading that reached the platform
 * (with its `raw` words and acquisition time). A delivered reading settles the oldest unsettled
 * served value of the same device and point with the same words, sent within TOLERANCE_MS of
 * the reading's time. What stays unsettled at the end is explained or counted lost:
 *
 * - logged, not yet sent: in the gateway's log, not at the platform (it goes out on the next start);
 * - cut short by the stop: served in the gateway's last poll of the device, which a stop discards;
 * - read again: a reply the gateway gave up on (too late), the same point read again right after;
 * - lost: anything else.
 *
 * A delivered reading with words no device served is unexplained: the gateway made it up.
 */

/** Served at most this long before or after the reading's time: generous for a loaded machine. */
export const TOLERANCE_MS = 3000;
/** A poll of one device lasts well under this; the stop can cut short only the last one. */
export const POLL_SPAN_MS = 2000;

export interface Served {
  device: string;
  point: string;
  words: readonly number[];
  at: number;
}

export interface Delivered {
  device: string;
  point: string;
  ts: number;
  raw?: readonly number[];
  value: unknown;
  flag: string;
}

interface Entry extends Served {
  settled: boolean;
}

export interface DeviceBooks {
  device: string;
  /** Requests the device answered (from the simulator's counters). */
  answered: number;
  served: number;
  delivered: number;
  loggedNotSent: number;
  cutShort: number;
  readAgain: number;
  lost: number;
  /** Delivered readings carrying words no device served. */
  unexplained: number;
  /** Delivered readings flagged B (no value: nothing served to settle). */
  flaggedB: number;
}

export interface Closing {
  /** Readings in the gateway's log that the platform did not receive. */
  loggedNotSent: readonly Delivered[];
  /** Wall-clock ms at which the gateway was told to stop. */
  stopAt: number;
}

const sameWords = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((w, i) => w === b[i]);

export class Books {
  private readonly entries = new Map<string, Entry[]>();
  private readonly firstOpen = new Map<string, number>();
  private readonly perDevice = new Map<string, DeviceBooks>();
  private readonly unexplainedSamples: Delivered[] = [];

  /** `counted(device, point)`: whether the gateway is meant to deliver that point. */
  constructor(private readonly counted: (device: string, point: string) => boolean) {}

  private device(id: string): DeviceBooks {
    let d = this.perDevice.get(id);
    if (!d) {
      d = {
        device: id,
        answered: 0,
        served: 0,
        delivered: 0,
        loggedNotSent: 0,
        cutShort: 0,
        readAgain: 0,
        lost: 0,
        unexplained: 0,
        flaggedB: 0,
      };
      this.perDevice.set(id, d);
    }
    return d;
  }

  serve(v: Served): void {
    if (!this.counted(v.device, v.point)) return;
    const key = `${v.device}\u0000${v.point}`;
    const list = this.entries.get(key) ?? [];
    list.push({ ...v, words: [...v.words], settled: false });
    this.entries.set(key, list);
    this.device(v.device).served++;
  }

  /** Settles the served value a delivered reading carries; false when none matches. */
  private settle(r: Delivered): boolean {
    const key = `${r.device}\u0000${r.point}`;
    const list = this.entries.get(key);
    if (!list || !r.raw) return false;
    let first = this.firstOpen.get(key) ?? 0;
    while (first < list.length && list[first]!.settled) first++;
    this.firstOpen.set(key, first);
    for (let i = first; i < list.length; i++) {
      const e = list[i]!;
      if (e.at > r.ts + TOLERANCE_MS) break;
      if (e.settled || e.at < r.ts - TOLERANCE_MS || !sameWords(e.words, r.raw)) continue;
      e.settled = true;
      return true;
    }
    return false;
  }

  deliver(r: Delivered): void {
    const d = this.device(r.device);
    if (r.flag === 'B' && r.value === null) {
      d.flaggedB++;
      return;
    }
    if (!this.counted(r.device, r.point)) return;
    if (this.settle(r)) d.delivered++;
    else {
      d.unexplained++;
      if (this.unexplainedSamples.length < 10) this.unexplainedSamples.push(r);
    }
  }

  /** The simulator's count of requests each device answered. */
  answered(counts: ReadonlyMap<string, number>): void {
    for (const [device, n] of counts) this.device(device).answered = n;
  }

  /** The unexplained deliveries, the first few. */
  unexplained(): readonly Delivered[] {
    return this.unexplainedSamples;
  }

  /** Counts without closing: what is unsettled so far is neither lost nor explained yet. */
  snapshot(): DeviceBooks[] {
    return [...this.perDevice.values()]
      .map((d) => ({ ...d }))
      .sort((a, b) => a.device.localeCompare(b.device));
  }

  /** Explains or counts as lost every value still unsettled. */
  close(c: Closing): DeviceBooks[] {
    for (const r of c.loggedNotSent) {
      if (r.raw && this.settle(r)) this.device(r.device).loggedNotSent++;
    }
    for (const list of this.entries.values()) {
      const settledAt = list.filter((e) => e.settled).map((e) => e.at);
      const lastSettled = settledAt.length > 0 ? Math.max(...settledAt) : -Infinity;
      list.forEach((e, i) => {
        if (e.settled) return;
        const d = this.device(e.device);
        const next = list.slice(i + 1).find((x) => x.settled);
        if (e.at > lastSettled && e.at >= c.stopAt - POLL_SPAN_MS) d.cutShort++;
        else if (next && next.at - e.at <= TOLERANCE_MS) d.readAgain++;
        else d.lost++;
      });
    }
    return this.snapshot();
  }
}
