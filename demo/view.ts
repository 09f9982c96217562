/**
 * The demo's live terminal view: what the platform receives (latest values with units and
 * flags, lanes, gaps), the books (values the devices served against readings delivered), and
 * what the gateway reports about itself (bus health, backlog) in its retained health message.
 */
import type { Flag } from '../gateway/src/core/flags.js';
import type { ProfileRegistry } from '../gateway/src/profiles/index.js';
import type { PlatformReading, PlatformStats } from '../hardware-sim/src/platform/index.js';
import type { DeviceBooks } from './books.js';

export interface Latest {
  value: PlatformReading['value'];
  /** As received: the platform does not assume the flags are the ones it knows. */
  flag: string;
  ts: number;
}

export interface ViewState {
  elapsedS: number;
  timeline: string[];
  devices: { id: string; profile: string; bus: string }[];
  latest: Map<string, Map<string, Latest>>;
  stats: PlatformStats;
  books: DeviceBooks[];
}

const FLAG_COLOUR: Partial<Record<string, string>> & Record<Flag, string> = {
  N: '\x1b[32m',
  B: '\x1b[31m',
  D: '\x1b[31m',
  F: '\x1b[31m',
  M: '\x1b[33m',
  C: '\x1b[36m',
  S: '\x1b[35m',
  T: '\x1b[35m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';

function formatValue(v: PlatformReading['value']): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function render(s: ViewState, profiles: ProfileRegistry): string {
  const out: string[] = [];
  const { stats } = s;
  const health = stats.health;
  out.push(`${BOLD}Lantian demo${RESET}  ${s.elapsedS.toFixed(0)} s   ${DIM}Ctrl-C stops everything${RESET}`);
  out.push('');
  for (const d of s.devices) {
    const profile = profiles.get(d.profile);
    const latest = s.latest.get(d.id) ?? new Map<string, Latest>();
    const dh = health?.acquisition?.devices.find((x) => x.device === d.id);
    const state = dh ? ` ${dh.state}, ${dh.timeouts} timeouts, p95 ${dh.latencyP95Ms ?? '—'} ms` : '';
    const b = s.books.find((x) => x.device === d.id);
    const counts = b ? `; served ${b.served} values, ${b.delivered} delivered` : '';
    out.push(
      `${BOLD}${d.id}${RESET} ${DIM}${profile.vendor} ${profile.model} on ${d.bus}${state}${counts}${RESET}`,
    );
    const cells: string[] = [];
    for (const p of profile.points) {
      if (p.role !== 'measurement') continue;
      const l = latest.get(p.key);
      if (!l) continue;
      const colour = FLAG_COLOUR[l.flag] ?? '';
      cells.push(
        `${p.key} ${colour}${formatValue(l.value)}${RESET} ${DIM}${p.unit}${RESET} ${colour}${l.flag}${RESET}`,
      );
    }
    out.push(`  ${cells.join('   ') || `${DIM}waiting for data${RESET}`}`);
  }
  out.push('');
  if (health?.acquisition) {
    for (const b of health.acquisition.buses) {
      out.push(
        `bus ${b.bus}: ${b.requests} requests, ${b.timeouts} timeouts, ${b.crcErrors} CRC errors, ${b.exceptions} exceptions, p95 ${b.latencyP95Ms ?? '—'} ms`,
      );
    }
  }
  const held = health?.acquisition?.admission;
  const lane = health
    ? `${health.uplink.lane}, backlog ${health.uplink.backlog}${held ? `; acquisition held back ${held.holds} times for overload` : ''}`
    : 'no health yet';
  out.push(`uplink mqtt: ${stats.state?.state ?? '?'} (${lane})`);
  out.push(
    `platform received: ${stats.records} records, live ${stats.lanes.live.messages} / replay ${stats.lanes.replay.messages} messages, ${stats.duplicates} duplicates, ${stats.holes.length} holes, ${stats.gaps.length} gap events`,
  );
  const served = s.books.reduce((n, b) => n + b.served, 0);
  const delivered = s.books.reduce((n, b) => n + b.delivered, 0);
  out.push(`books: the devices served ${served} values, ${delivered} of them reached the platform`);
  out.push('');
  out.push(`${BOLD}timeline${RESET}`);
  for (const t of s.timeline.slice(-6)) out.push(`  ${t}`);
  return out.join('\n');
}
