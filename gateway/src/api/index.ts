/**
 * The local web page, built from the gateway's parts. The columns of each device come from its
 * profile (name, unit, range of every measurement point), so nothing here knows a device model.
 */
import type { Logger } from '../core/logger.js';
import type { AcquisitionHealth } from '../acquisition/index.js';
import type { LoadedConfig } from '../config/index.js';
import { LiveView, type DeviceMeta, type LogFollower } from './live.js';
import { WebServer, type WebServerOptions } from './server.js';
import type { CameraHealth } from '../cameras/service.js';

export { LiveView, WebServer };
export type { WebServerOptions };

/** What the page reads from a running gateway (the Gateway class satisfies it). */
export interface GatewayParts {
  readonly loaded: LoadedConfig;
  readonly log: LogFollower;
  readonly acquisition: { health(): AcquisitionHealth };
  readonly uplinks: ReadonlyMap<string, { status(): { connected: boolean; backlog: number } }>;
  readonly hj212: ReadonlyMap<string, { status(): { state: string; backlog: number } }>;
  /** Site cameras, when the config names any: their state and newest picture. */
  readonly cameras?: { health(): CameraHealth[] } | undefined;
}

export function deviceColumns(loaded: LoadedConfig): DeviceMeta[] {
  return Object.entries(loaded.config.devices)
    .filter(([, d]) => d.enabled)
    .map(([id, d]) => {
      const skip = new Set(d.overrides?.skip ?? []);
      const meta: DeviceMeta = {
        id,
        profile: d.profile,
        bus: d.bus,
        unitId: d.unitId,
        periodMs: d.periodMs,
        points: loaded.profiles
          .get(d.profile)
          .points.filter((p) => p.role === 'measurement' && !skip.has(p.key))
          .map((p) => ({ key: p.key, name: p.name, unit: p.unit, ...(p.range ? { range: p.range } : {}) })),
      };
      if (d.name !== undefined) meta.name = d.name;
      return meta;
    });
}

/** The status pushed to the page: bus and device health, uplinks with their backlog, the log. */
export function pageStatus(parts: GatewayParts): unknown {
  const h = parts.acquisition.health();
  return {
    buses: h.buses,
    devices: h.devices,
    uplinks: [
      ...[...parts.uplinks].map(([name, u]) => ({ name, ...u.status() })),
      ...[...parts.hj212].map(([name, s]) => {
        const st = s.status();
        return { name: `hj212 ${name}`, ...st, connected: st.state === 'connected' };
      }),
    ],
    log: parts.log.stats(),
    cameras: parts.cameras?.health() ?? [],
  };
}

/** Builds the page for a gateway whose config has a `web` section; undefined without one. */
export function webPage(parts: GatewayParts, logger?: Logger): WebServer | undefined {
  const { config, secrets } = parts.loaded;
  const web = config.web;
  if (!web) return undefined;
  const gateway = { id: config.gateway.id, site: config.site.name };
  const view = new LiveView(parts.log, {
    gateway: config.gateway.name === undefined ? gateway : { ...gateway, name: config.gateway.name },
    devices: deviceColumns(parts.loaded),
    status: () => pageStatus(parts),
  });
  const options: WebServerOptions = { host: web.host, port: web.port };
  if (web.password) options.password = secrets.reveal(web.password);
  if (logger) options.logger = logger;
  const log = parts.log;
  if (parts.cameras && log.latestBlob) {
    const latest = log.latestBlob.bind(log);
    options.snapshot = (camera) => latest('snapshot', camera);
  }
  return new WebServer(view, parts.log, options);
}
