/**
 * A Lantian site config for a running scenario: one bus per simulated bus at the address it
 * listens on, one device per Modbus device with the scenario's ids, profiles and unit ids. It
 * is plain YAML written from the scenario, so a newcomer can point the gateway at the simulator
 * without editing anything; `lantian check-config` is the judge of it, not this file.
 */
import { stringify } from 'yaml';
import type { SimBusInfo } from '../control/control.js';
import { isUart, type BusSpec, type ModbusDeviceSpec, type Scenario } from './schema.js';

export interface SiteConfigOptions {
  /** Where the gateway keeps its log, relative to the written file. Default: lantian-sim-log.db. */
  storagePath?: string;
  /** Broker the gateway forwards to. Default: mqtt://127.0.0.1:1883. */
  mqttUrl?: string;
}

const toId = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 48) || 'sim';

function busEntry(spec: BusSpec, info: SimBusInfo): Record<string, unknown> {
  const line = {
    baud: spec.line.baud,
    dataBits: spec.line.dataBits,
    parity: spec.line.parity,
    stopBits: spec.line.stopBits,
  };
  switch (info.kind) {
    case 'tcp':
      return { kind: 'tcp', host: spec.host, port: info.port };
    case 'rtu-tcp':
      return { kind: 'rtu-over-tcp', host: spec.host, port: info.port, ...line };
    case 'pty':
      return { kind: 'serial', port: info.path, ...line };
  }
}

/** The site config text for a scenario whose buses listen as `buses` says. */
export function siteConfigFor(
  scenario: Scenario,
  buses: readonly SimBusInfo[],
  options: SiteConfigOptions = {},
): string {
  const modbus = scenario.devices.filter((d): d is ModbusDeviceSpec => !isUart(d));
  const used = new Set(modbus.map((d) => d.bus));
  const config = {
    version: 1,
    site: { id: toId(scenario.name ?? 'simulated-site'), name: scenario.name ?? 'Simulated site' },
    gateway: { id: 'sim-gw' },
    buses: Object.fromEntries(
      buses
        .filter((b) => used.has(b.name))
        .map((b) => [
          b.name,
          busEntry(
            scenario.buses.find((s) => s.name === b.name)!,
            b,
          ),
        ]),
    ),
    devices: Object.fromEntries(
      modbus.map((d) => [d.id, { profile: d.profile, bus: d.bus, unitId: d.unit, periodMs: 5000 }]),
    ),
    uplinks: { mqtt: { url: options.mqttUrl ?? 'mqtt://127.0.0.1:1883' } },
    storage: { path: options.storagePath ?? 'lantian-sim-log.db' },
  };
  const skipped = scenario.devices.filter(isUart).map((d) => `${d.id} (${d.uart})`);
  const header = [
    `Site config for the simulated ${scenario.name ?? 'scenario'}, written by lantian-sim run.`,
    'Device ids, profiles and unit ids are the scenario’s; buses point where the simulator listens.',
    'Check it with: lantian check-config FILE; poll it: lantian poll --config FILE --once',
    ...(skipped.length > 0
      ? [`Left out (UART sensors the gateway does not read yet): ${skipped.join(', ')}`]
      : []),
  ];
  return `${header.map((l) => `# ${l}`).join('\n')}\n${stringify(config)}`;
}
