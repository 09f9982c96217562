/**
 * Calibration records, as `calibration` events:
 *   - `state: started` / `ended`: a device's measurements are flagged C (its status words say
 *     it is calibrating), from the first C reading to the first reading that is neither C nor B
 *     (a communication failure proves nothing either way);
 *   - `state: check`: a zero or span drift register of an analyzer (named per outlet in the site
 *     config) shows a new value: the result of a new zero or span check. The drift is compared
 *     with the allowed drift (HJ 75-2017's daily check: ±2.5 % of full scale for gas analyzers,
 *     ±2.0 % for particulate [uncertain: secondary sources], so configurable) and the event says
 *     whether it was within it.
 * Only changes are recorded: the first value seen after a start is the baseline, so replaying
 * the log at a restart reproduces exactly the events written before it.
 */
import type { ReadingDraft } from '../core/reading.js';
import { PointMap } from '../core/point-map.js';
import { seriesKey } from './plan.js';
import { NO_EVENTS, type ProcessingEvent } from './types.js';

/** One drift register of an analyzer and what it is the drift of. */
export interface DriftPlan {
  outlet: string;
  /** The drift register: `device/point`. */
  device: string;
  point: string;
  /** The measured point whose drift it is. */
  of: string;
  check: 'zero' | 'span';
  /** Allowed |drift|, in the drift point's unit (%FS on the analyzers Lantian knows). */
  tolerance: number;
  unit?: string;
}

export class CalibrationWatch {
  private readonly drifts = new PointMap<DriftPlan>();
  /** Whether any drift register is named: without, a reading needs no look-up for one. */
  private readonly anyDrift: boolean;
  private readonly last = new Map<string, number>();
  /** Devices calibrating now, with the time of their first C reading. */
  private readonly calibrating = new Map<string, number>();

  constructor(
    drifts: readonly DriftPlan[],
    /** Devices whose measurement readings show a calibration, with their outlet. */
    private readonly devices: ReadonlyMap<string, string | undefined>,
  ) {
    for (const d of drifts) this.drifts.set(d.device, d.point, d);
    this.anyDrift = drifts.length > 0;
  }

  /**
   * One committed reading; `measurement` says whether its point is a measurement (a series of
   * processing's: only measurements carry the C flag of a check). The caller has looked that up.
   */
  observe(r: ReadingDraft, measurement: boolean): readonly ProcessingEvent[] {
    const drift = this.anyDrift ? this.drifts.get(r.device, r.point) : undefined;
    if (drift) return this.driftReading(drift, seriesKey(r.device, r.point), r);
    if (!measurement || !this.devices.has(r.device)) return NO_EVENTS;
    const since = this.calibrating.get(r.device);
    if (since === undefined && r.flag === 'C') {
      this.calibrating.set(r.device, r.ts);
      return [
        {
          ts: r.ts,
          kind: 'calibration',
          payload: { state: 'started', ...this.where(r.device), start: r.ts },
        },
      ];
    }
    if (since !== undefined && r.flag !== 'C' && r.flag !== 'B') {
      this.calibrating.delete(r.device);
      return [
        {
          ts: r.ts,
          kind: 'calibration',
          payload: {
            state: 'ended',
            ...this.where(r.device),
            start: since,
            end: r.ts,
            durationS: (r.ts - since) / 1000,
          },
        },
      ];
    }
    return NO_EVENTS;
  }

  /** Outlet and device of a calibration event: built only for an event, not for every reading. */
  private where(device: string): { outlet?: string; device: string } {
    const outlet = this.devices.get(device);
    return { ...(outlet === undefined ? {} : { outlet }), device };
  }

  private driftReading(d: DriftPlan, key: string, r: ReadingDraft): readonly ProcessingEvent[] {
    if (typeof r.value !== 'number' || !Number.isFinite(r.value) || r.flag === 'B') return NO_EVENTS;
    const before = this.last.get(key);
    this.last.set(key, r.value);
    if (before === undefined || before === r.value) return NO_EVENTS;
    return [
      {
        ts: r.ts,
        kind: 'calibration',
        payload: {
          state: 'check',
          check: d.check,
          outlet: d.outlet,
          device: d.device,
          point: d.point,
          of: d.of,
          start: r.ts,
          drift: r.value,
          previous: before,
          tolerance: d.tolerance,
          withinTolerance: Math.abs(r.value) <= d.tolerance,
          ...(d.unit === undefined ? {} : { unit: d.unit }),
        },
      },
    ];
  }
}
