/** The polling plan and uplinks of a config as text, for `check-config --plan` and the interim demo. */
import type { BusConfig, BusPlan, LoadedConfig, PlannedDevice } from '../config/index.js';
import { plural } from './output.js';
import { processingPlan } from '../processing/plan.js';
import { formatOutlets } from '../processing/plan-text.js';
import { formatSiteIo } from '../../../firmware/src/plan-text.js';
import { loadOfPlan, nodeFlagsFor } from '../runtime-fit.js';

function endpoint(bus: BusConfig): string {
  switch (bus.kind) {
    case 'serial':
      return `serial ${bus.port} ${line(bus)}`;
    case 'tcp':
      return `Modbus TCP ${bus.host}:${bus.port}`;
    case 'rtu-over-tcp':
      return `RTU over TCP ${bus.host}:${bus.port}, line ${line(bus)}`;
  }
}

const line = (b: { baud: number; dataBits: number; parity: string; stopBits: number }): string =>
  `${b.baud} ${b.dataBits}${b.parity[0]!.toUpperCase()}${b.stopBits}`;

const seconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

const hj212Codes = (d: PlannedDevice): string[] => d.points.flatMap((p) => (p.hj212 ? [p.hj212] : []));

function deviceLine(d: PlannedDevice): string {
  const measured = d.points.filter((p) => p.role === 'measurement');
  const codes = hj212Codes(d);
  return [
    `    ${d.id.padEnd(14)} ${d.profile.id.padEnd(30)} unit ${String(d.unitId).padEnd(3)}`,
    `every ${seconds(d.periodMs).padEnd(6)} timeout ${d.timeoutMs} ms`,
    `${plural(measured.length, 'point')} + ${d.points.length - measured.length} status`,
    codes.length > 0 ? `HJ 212: ${codes.join(' ')}` : 'no HJ 212 codes',
  ].join('  ');
}

/** `runtime` adds lines under each HJ 212 platform (check-config reads them from disk). */
export function formatPlan(
  loaded: LoadedConfig,
  plan: readonly BusPlan[],
  runtime?: (platform: string) => string[],
): string[] {
  const c = loaded.config;
  const out = [`Polling plan for site ${c.site.id} (${c.site.name}), gateway ${c.gateway.id}`];
  for (const b of plan) {
    out.push(`  bus ${b.id}: ${endpoint(b.bus)}, retries ${b.bus.retries}`);
    if (b.devices.length === 0) out.push('    (no enabled devices)');
    for (const d of b.devices) out.push(deviceLine(d));
  }
  const devices = plan.flatMap((b) => b.devices);
  out.push(...formatOutlets(processingPlan(c, loaded.profiles)));
  const mqtt = c.uplinks.mqtt;
  if (mqtt) out.push(`  uplink mqtt: ${mqtt.url}, topics ${mqtt.topicRoot}/${c.gateway.id}/…`);
  for (const [name, p] of Object.entries(c.uplinks.hj212)) {
    const fed = p.outlet !== undefined ? (c.outlets[p.outlet]?.devices ?? []) : (p.devices ?? []);
    const codes = devices.filter((d) => fed.includes(d.id)).flatMap(hj212Codes);
    out.push(
      `  uplink hj212 ${name}: ${p.host}:${p.port}, HJ 212-${p.version}, ST ${p.st}, MN ${p.mn}, ` +
        `real-time every ${p.rtdIntervalS} s, minute data every ${p.minIntervalMin} min; codes ${codes.join(' ') || 'none'}`,
      ...(runtime?.(name) ?? []),
    );
  }
  out.push(...formatSiteIo(c.siteIo));
  const load = loadOfPlan(plan);
  out.push(
    `  load: ${plural(load.points, 'point')}, ${Math.round(load.readingsPerSec).toLocaleString('en')} readings/s; ` +
      `node's flags for it (README.md, "On the gateway"): ${nodeFlagsFor(load)}`,
  );
  out.push(`  storage: ${c.storage.path}, quota ${c.storage.quotaMb} MiB, ${c.storage.retentionDays} days`);
  return out;
}
