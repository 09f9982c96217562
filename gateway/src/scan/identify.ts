/**
 * Telling which model answers at a unit id. First Read Device Identification (FC 43 / MEI 14,
 * basic objects: vendor, product code, revision): a profile that states the same vendor and
 * product code is a near-certain match. Then fingerprints from the profiles themselves: the
 * identification probe read (a read that succeeds on that model, with any words it must hold)
 * and a few measurement points whose decoded values must lie inside their measuring range.
 */
import { decodePoint } from '../acquisition/decode.js';
import type { Profile } from '../profiles/schema.js';
import type { Answer, Prober } from './prober.js';

export interface Identity {
  vendorName?: string;
  productCode?: string;
  revision?: string;
}

export interface Candidate {
  profile: string;
  /** 0–1: the share of the weighted checks the device passed. */
  confidence: number;
  /** Weight of the checks passed: between equal confidences, more evidence ranks first. */
  weight: number;
  evidence: string[];
}

/** Measurement points read per profile as fingerprints; keeps a scan from flooding the line. */
const POINTS_PER_PROFILE = 3;
/** Weight of checks needed for full confidence: e.g. the probe read and three values in range. */
const FULL_EVIDENCE = 5;

function readPdu(fn: number, address: number, count: number): Buffer {
  const pdu = Buffer.alloc(5);
  pdu[0] = fn;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(count, 3);
  return pdu;
}

/** The words (or bits) of a good read reply, or undefined for any other answer. */
function readValues(a: Answer, fn: number, count: number): number[] | undefined {
  if (a.kind !== 'reply' || a.pdu[0] !== fn) return undefined;
  const data = a.pdu.subarray(2);
  if (fn <= 2) return Array.from({ length: count }, (_, i) => ((data[i >> 3] ?? 0) >> (i & 7)) & 1);
  if (data.length !== 2 * count) return undefined;
  return Array.from({ length: count }, (_, i) => data.readUInt16BE(2 * i));
}

/** FC 43 / MEI 14, basic objects; undefined when the device refuses it or stays silent. */
export async function readIdentity(
  prober: Prober,
  unitId: number,
  timeoutMs: number,
): Promise<{ identity?: Identity; note: string }> {
  const a = await prober.request(unitId, Buffer.from([0x2b, 0x0e, 0x01, 0x00]), timeoutMs);
  if (a.kind === 'exception') return { note: `FC 43 not supported (exception ${a.code})` };
  if (a.kind !== 'reply' || a.pdu[1] !== 0x0e) return { note: 'FC 43 not answered' };
  const objects = new Map<number, string>();
  let at = 7;
  for (let n = a.pdu[6] ?? 0; n > 0 && at + 2 <= a.pdu.length; n--) {
    const len = a.pdu[at + 1]!;
    objects.set(a.pdu[at]!, a.pdu.subarray(at + 2, at + 2 + len).toString('latin1'));
    at += 2 + len;
  }
  const identity: Identity = {};
  if (objects.has(0)) identity.vendorName = objects.get(0)!;
  if (objects.has(1)) identity.productCode = objects.get(1)!;
  if (objects.has(2)) identity.revision = objects.get(2)!;
  const text = [identity.vendorName, identity.productCode, identity.revision].filter(Boolean).join(' / ');
  return { identity, note: `FC 43: ${text}` };
}

interface Check {
  weight: number;
  passed: boolean;
  evidence: string;
}

/**
 * Scores one profile against the device at `unitId`. A read the profile says works but the
 * device refuses (an exception) rules the profile out.
 */
/** Answers already read from one device: profiles often read the same registers. */
export type ReadCache = Map<string, Answer>;

export async function fingerprint(
  prober: Prober,
  unitId: number,
  profile: Profile,
  identity: Identity | undefined,
  timeoutMs: number,
  cache: ReadCache = new Map(),
): Promise<Candidate | undefined> {
  const checks: Check[] = [];
  const id = profile.identification;
  // The device's own pace: its turnaround and minimum gap, and the reply's time on the wire.
  const read = async (fn: number, address: number, count: number): Promise<Answer> => {
    const key = `${fn}:${address}:${count}`;
    const known = cache.get(key);
    if (known) return known;
    const a = await prober.request(
      unitId,
      readPdu(fn, address, count),
      Math.max(timeoutMs, profile.quirks.turnaroundMs + prober.wireMs(13 + 2 * count) + 50),
      profile.quirks.minGapMs,
    );
    cache.set(key, a);
    return a;
  };
  if (id?.vendorName !== undefined || id?.productCode !== undefined) {
    const same =
      identity !== undefined &&
      (id.vendorName === undefined || id.vendorName === identity.vendorName) &&
      (id.productCode === undefined || id.productCode === identity.productCode);
    if (identity && !same) return undefined;
    if (same)
      checks.push({
        weight: 10,
        passed: true,
        evidence: `FC 43 names ${id.vendorName ?? ''} ${id.productCode ?? ''}`.trim(),
      });
  }
  if (id?.probe) {
    const p = id.probe;
    const a = await read(p.function, p.address, p.count);
    if (a.kind === 'exception') return undefined;
    const words = readValues(a, p.function, p.count);
    const where = `FC ${p.function} @${p.address}×${p.count}`;
    checks.push({
      weight: 2,
      passed: words !== undefined,
      evidence: `probe ${where} ${words ? 'answered' : 'not answered'}`,
    });
    if (words && p.expect) {
      const match = p.expect.every((w, i) => w === null || w === words[i]);
      if (!match) return undefined;
      checks.push({ weight: 4, passed: true, evidence: `probe ${where} holds the expected words` });
    }
  }
  const points = profile.points.filter((p) => p.role === 'measurement' && p.range && p.type !== 'string');
  for (const point of points.slice(0, POINTS_PER_PROFILE)) {
    const a = await read(point.function, point.pdu, point.count);
    if (a.kind === 'exception') return undefined;
    const words = readValues(a, point.function, point.count);
    if (!words) {
      checks.push({ weight: 1, passed: false, evidence: `${point.key}: no answer` });
      continue;
    }
    let value: number | string;
    try {
      value = decodePoint(point, words);
    } catch {
      checks.push({ weight: 1, passed: false, evidence: `${point.key}: does not decode` });
      continue;
    }
    const [lo, hi] = point.range!;
    // A float as small as 1e-30 is what other registers' bits look like read as a float.
    const tiny = typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-9;
    const inRange =
      typeof value === 'number' && Number.isFinite(value) && !tiny && value >= lo && value <= hi;
    checks.push({
      // A zero fits almost any range: weaker evidence than a value inside it.
      weight: value === 0 ? 0.5 : 1,
      passed: inRange,
      evidence: `${point.key} = ${typeof value === 'number' ? +value.toPrecision(5) : value} ${point.unit} ${inRange ? 'within' : 'outside'} [${lo}, ${hi}]`,
    });
  }
  const total = checks.reduce((s, c) => s + c.weight, 0);
  if (total === 0) return undefined;
  const passed = checks.reduce((s, c) => s + (c.passed ? c.weight : 0), 0);
  // Confidence grows with the evidence: one value in range is a hint, not an identification.
  const enough = Math.min(1, total / FULL_EVIDENCE);
  return {
    profile: profile.id,
    confidence: Math.round((passed / total) * enough * 100) / 100,
    weight: passed,
    evidence: checks.map((c) => (c.passed ? '✓ ' : '✗ ') + c.evidence),
  };
}
