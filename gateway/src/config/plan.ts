/**
 * The polling plan a config implies: per bus, the enabled devices with their effective period,
 * timeout, retries and quirks, and the points they read with per-device overrides applied
 * (scale and offset, a device's own word and byte order).
 * Pure: the scheduler and `lantian poll` build on it; the interim demo prints it.
 */
import type { ProfileRegistry } from '../profiles/index.js';
import type { Profile, ResolvedPoint } from '../profiles/schema.js';
import type { BusConfig, SiteConfig } from './schema.js';

export interface PlannedDevice {
  id: string;
  name?: string;
  profile: Profile;
  unitId: number;
  periodMs: number;
  timeoutMs: number;
  retries: number;
  /** The profile's quirks with the device's overrides applied. */
  quirks: Profile['quirks'];
  /** Measurement and status points, in profile order, with scale/offset overrides applied. */
  points: ResolvedPoint[];
  /** Point keys the config skips. */
  skipped: string[];
}

export interface BusPlan {
  id: string;
  bus: BusConfig;
  devices: PlannedDevice[];
}

/** Roles the poller reads every period; info and config points are read on demand. */
const POLLED_ROLES: ReadonlySet<ResolvedPoint['role']> = new Set(['measurement', 'status']);

export function pollingPlan(config: SiteConfig, profiles: ProfileRegistry): BusPlan[] {
  // Drift registers an outlet records as calibration checks are read every period too.
  const calibration = new Set(
    Object.values(config.outlets).flatMap((o) =>
      Object.values(o.calibration).flatMap((c) => [c.zeroDrift, c.spanDrift]),
    ),
  );
  return Object.entries(config.buses).map(([busId, bus]) => ({
    id: busId,
    bus,
    devices: Object.entries(config.devices)
      .filter(([, d]) => d.bus === busId && d.enabled)
      .map(([id, d]): PlannedDevice => {
        const profile = profiles.get(d.profile);
        const o = d.overrides ?? {};
        const skipped = o.skip ?? [];
        const {
          points: pointOverrides = {},
          skip: _s,
          timeoutMs,
          retries,
          wordOrder,
          byteOrder,
          ...quirkOverrides
        } = o;
        // A device without overrides shares its profile's quirks and points: a site polls many
        // devices of one model, and a copy of each point per device was heap for nothing.
        let quirks = profile.quirks;
        for (const [k, v] of Object.entries(quirkOverrides) as [keyof typeof quirks, number | undefined][]) {
          if (v !== undefined) quirks = { ...quirks, [k]: v };
        }
        return {
          id,
          ...(d.name === undefined ? {} : { name: d.name }),
          profile,
          unitId: d.unitId,
          periodMs: d.periodMs,
          timeoutMs: timeoutMs ?? bus.timeoutMs ?? profile.quirks.timeoutMs,
          retries: retries ?? bus.retries,
          quirks,
          points: profile.points
            .filter(
              (p) =>
                (POLLED_ROLES.has(p.role) || calibration.has(`${id}/${p.key}`)) && !skipped.includes(p.key),
            )
            .map((p) => {
              const own = { ...orders(p, wordOrder, byteOrder), ...definedOnly(pointOverrides[p.key] ?? {}) };
              return Object.keys(own).length === 0 ? p : { ...p, ...own };
            }),
          skipped,
        };
      }),
  }));
}

/**
 * A device's own word and byte order, where they mean something: words only for values over
 * several registers, bytes for register values other than bit fields (bits stay where the
 * profile puts them in the register).
 */
function orders(
  p: ResolvedPoint,
  wordOrder: ResolvedPoint['wordOrder'] | undefined,
  byteOrder: ResolvedPoint['byteOrder'] | undefined,
): Partial<Pick<ResolvedPoint, 'wordOrder' | 'byteOrder'>> {
  const registers = p.function === 3 || p.function === 4;
  return {
    ...(wordOrder !== undefined && registers && p.count > 1 ? { wordOrder } : {}),
    ...(byteOrder !== undefined && registers && p.type !== 'bits' ? { byteOrder } : {}),
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
