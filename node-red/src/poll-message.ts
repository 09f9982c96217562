/**
 * One poll of one device as a Node-RED message: values by point key in `payload`, and beside
 * them the units, the HJ 212 flags and the reasons behind each flag. A point that could not be
 * read is `null` with flag B, never an old value.
 */
import { worstFlag, type Flag } from '../../gateway/src/core/flags.js';
import type { MissedSlots, Quality, ReadingDraft } from '../../gateway/src/core/reading.js';
import type { Profile } from '../../gateway/src/profiles/schema.js';

export interface PollReading {
  point: string;
  value: number | string | null;
  unit: string;
  flag: Flag;
  quality?: Quality[];
  ts: number;
  /** HJ 212 factor code of the point, where the profile gives one. */
  hj212?: string;
  raw?: number[];
}

export interface PollMessage {
  topic: string;
  payload: Record<string, number | string | null>;
  device: string;
  profile: string;
  /** Acquisition time of the poll (its last read), UTC ms. */
  ts: number;
  /** The worst flag of the poll (B hides everything else). */
  flag: Flag;
  units: Record<string, string>;
  flags: Record<string, Flag>;
  readings: PollReading[];
  /**
   * Slots of the device that passed unpolled just before this poll (the line could not keep up):
   * each is one B sample with quality `overrun`, at `from + k · periodMs`.
   */
  missed?: MissedSlots;
}

export function pollMessage(device: string, profile: Profile, drafts: readonly ReadingDraft[]): PollMessage {
  const points = new Map(profile.points.map((p) => [p.key, p]));
  const readings = drafts.map((d): PollReading => {
    const p = points.get(d.point);
    return {
      point: d.point,
      value: d.value,
      unit: p?.unit ?? '',
      flag: d.flag,
      ts: d.ts,
      ...(d.quality?.length ? { quality: d.quality } : {}),
      ...(p?.hj212 ? { hj212: p.hj212 } : {}),
      ...(d.raw ? { raw: d.raw } : {}),
    };
  });
  // The poll's overrun slots ride on each of its readings alike.
  const missed = drafts.find((d) => d.missed)?.missed;
  return {
    topic: device,
    payload: Object.fromEntries(readings.map((r) => [r.point, r.value])),
    device,
    profile: profile.id,
    ts: readings.reduce((t, r) => Math.max(t, r.ts), 0),
    flag: worstFlag(readings.map((r) => r.flag)),
    units: Object.fromEntries(readings.map((r) => [r.point, r.unit])),
    flags: Object.fromEntries(readings.map((r) => [r.point, r.flag])),
    readings,
    ...(missed ? { missed } : {}),
  };
}
