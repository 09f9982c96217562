/**
 * Site config -> acquisition options. The config's polling plan already applies per-device
 * overrides (quirks, timeouts, retries, point scale/offset, skipped points); this only maps its
 * shapes onto the engine's.
 */
import type { BusConfig as SiteBus, SiteConfig } from '../config/schema.js';
import { pollingPlan, type PlannedDevice } from '../config/plan.js';
import type { ProfileRegistry } from '../profiles/loader.js';
import type { Profile } from '../profiles/schema.js';
import type { AcquisitionOptions, BusConfig, DeviceOptions } from './engine.js';
import type { LinkSettings } from './transport/types.js';

function linkOf(bus: SiteBus): LinkSettings {
  switch (bus.kind) {
    case 'serial':
      return { kind: 'rtu', path: bus.port, line: lineOf(bus) };
    case 'tcp':
      return { kind: 'tcp', host: bus.host, port: bus.port, maxInFlight: bus.maxInFlight };
    case 'rtu-over-tcp':
      return { kind: 'rtu-tcp', host: bus.host, port: bus.port, line: lineOf(bus) };
  }
}

function lineOf(
  bus: Extract<SiteBus, { baud: number }>,
): NonNullable<Extract<LinkSettings, { kind: 'rtu' }>['line']> {
  return { baud: bus.baud, dataBits: bus.dataBits, parity: bus.parity, stopBits: bus.stopBits };
}

/**
 * The profile as this device sees it: quirk overrides and point scale/offset overrides applied.
 * The profile itself when nothing is overridden (the polling plan then shares its objects).
 */
function effectiveProfile(d: PlannedDevice): Profile {
  const overridden = new Map(d.points.map((p) => [p.key, p]));
  const points = d.profile.points.map((p) => overridden.get(p.key) ?? p);
  if (d.quirks === d.profile.quirks && points.every((p, i) => p === d.profile.points[i])) return d.profile;
  return { ...d.profile, quirks: d.quirks, points };
}

function deviceOptions(d: PlannedDevice): DeviceOptions {
  return {
    id: d.id,
    profile: effectiveProfile(d),
    unitId: d.unitId,
    periodMs: d.periodMs,
    timeoutMs: d.timeoutMs,
    retries: d.retries,
    points: d.points.map((p) => p.key),
  };
}

export interface FromConfigOptions {
  /** Only these device ids (default: every enabled device). */
  devices?: readonly string[];
}

export function acquisitionOptions(
  config: SiteConfig,
  profiles: ProfileRegistry,
  options: FromConfigOptions = {},
): AcquisitionOptions {
  const wanted = options.devices ? new Set(options.devices) : undefined;
  const buses: BusConfig[] = [];
  for (const plan of pollingPlan(config, profiles)) {
    const devices = plan.devices.filter((d) => !wanted || wanted.has(d.id)).map(deviceOptions);
    if (devices.length === 0) continue;
    const bus = plan.bus;
    const network =
      bus.kind === 'serial' ? {} : { connectTimeoutMs: bus.connectTimeoutMs, maxMs: bus.reconnectMaxMs };
    buses.push({
      name: plan.id,
      link: linkOf(bus),
      ...(bus.interFrameDelayMs === undefined ? {} : { silenceMs: bus.interFrameDelayMs }),
      reconnect: { initialMs: 1000, ...network },
      devices,
    });
  }
  return { buses };
}
