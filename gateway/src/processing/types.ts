/**
 * What processing returns. The types are shaped so the composition root can append them to the
 * log unchanged (they are structurally the store's AggregateDraft and EventDraft): processing
 * itself never imports the store (dependency direction, STYLE.md 9).
 */
import type { Flag } from '../core/flags.js';
import type { ConversionName } from './conversions.js';

/** quarter_hour: the 15-minute averages of dust points (construction sites). */
export type AggregatePeriodKind = 'minute' | 'quarter_hour' | 'hour' | 'day';

/** How a derived value was computed: the conversions in order and their inputs (period means). */
export interface Derivation {
  conversions: ConversionName[];
  inputs: Record<string, number>;
}

/**
 * One minute, hour or day of one series. `device` is the device id, or the outlet id for a
 * series the outlet computes (dry standard flow, NOx as NO2); `outlet` names the outlet either way.
 */
export interface Aggregate {
  device: string;
  point: string;
  period: AggregatePeriodKind;
  /** Start of the period, UTC milliseconds (HJ 212 DataTime is the start too). */
  start: number;
  /** Over valid inputs only; null when there were none. */
  min: number | null;
  avg: number | null;
  max: number | null;
  /** Valid inputs averaged: samples for a minute, valid minutes for a quarter-hour or an hour, valid hours for a day. */
  count: number;
  flag: Flag;
  /** Inputs of any flag seen in the period (samples, minute or hour aggregates). */
  inputs?: number;
  /** Valid inputs the period needs (HJ 75: 12 samples by default, 45 minutes, 20 hours). */
  required?: number;
  outlet?: string;
  /** HJ 212 factor code of the point, when the profile gives one. */
  hj212?: string;
  /** Unit of min/avg/max (after any ppm -> mg/m3 conversion). */
  unit?: string;
  /** Converted to the outlet's reference O2 (HJ 212 ZsMin/ZsAvg/ZsMax). */
  zsMin?: number | null;
  zsAvg?: number | null;
  zsMax?: number | null;
  /** Amount over the period (HJ 212 -Cou): kg for a pollutant, m3 for the flow. */
  cou?: number | null;
  /** How avg, zsAvg and cou were derived from measured values. */
  derivation?: Derivation;
}

export type ProcessingEventKind = 'exceedance' | 'alarm' | 'calibration' | 'high_wind';

export interface ProcessingEvent {
  /** When the event became known: the end of the period it is about. UTC ms. */
  ts: number;
  kind: ProcessingEventKind;
  payload: Record<string, unknown>;
}

/** No events: what a reading that raises none gets, shared (nothing allocated per reading). */
export const NO_EVENTS: readonly ProcessingEvent[] = Object.freeze([]);

export interface ProcessingOutput {
  aggregates: Aggregate[];
  events: ProcessingEvent[];
}

export const emptyOutput = (): ProcessingOutput => ({ aggregates: [], events: [] });
