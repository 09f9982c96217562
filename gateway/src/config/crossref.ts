/**
 * Checks that need more than one part of the config, or a profile, or the secrets file: ids that
 * refer to something, points that must exist in a device's profile, unit ids on a bus, files.
 * They run on every entry that passed the schema, so one broken entry hides nothing else.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Profile, ProfileRegistry } from '../profiles/index.js';
import { parsePointRef } from '../core/reading.js';
import type { ProblemList } from './problems.js';
import { isRaw } from './raw.js';
import type { BusConfig, DeviceConfig, Hj212Config, MqttConfig, OutletConfig, SiteConfig } from './schema.js';
import { findSecretRefs, type Secrets } from './secrets.js';
import { didYouMean } from './suggest.js';
import { PM_SENSOR_POINTS } from './schema-pm-sensors.js';

type PmModel = keyof typeof PM_SENSOR_POINTS;

/** The parts of a config that passed the schema, plus every id the file declares. */
export interface ConfigView {
  raw: Record<string, unknown>;
  busIds: string[];
  deviceIds: string[];
  outletIds: string[];
  buses: Map<string, BusConfig>;
  devices: Map<string, DeviceConfig>;
  outlets: Map<string, OutletConfig>;
  hj212: Map<string, Hj212Config>;
  mqtt?: MqttConfig;
  siteIo?: SiteConfig['siteIo'];
  dust?: SiteConfig['dust'];
}

export interface CrossCheckContext {
  list: ProblemList;
  profiles: ProfileRegistry;
  secrets: Secrets;
  /** Directory of the config file: relative paths in it are relative to this. */
  dir: string;
  /** How the secrets file was named, for hints; undefined when there is none. */
  secretsFile?: string;
  /** false when the secrets file could not be read: that problem is reported once, not per reference. */
  checkSecretRefs: boolean;
  /** Secrets present in the file but unusable; already reported there. */
  rejectedSecrets: ReadonlySet<string>;
  allowInsecureTls: boolean;
}

const lineOf = (b: BusConfig): string | undefined =>
  b.kind === 'tcp' ? undefined : `${b.baud} ${b.dataBits}${b.parity[0]!.toUpperCase()}${b.stopBits}`;

export function crossCheck(view: ConfigView, ctx: CrossCheckContext): void {
  checkBuses(view, ctx);
  checkDevices(view, ctx);
  checkOutlets(view, ctx);
  checkUplinks(view, ctx);
  checkSiteIo(view, ctx);
  checkDust(view, ctx);
  checkSecrets(view, ctx);
}

function checkBuses(view: ConfigView, { list }: CrossCheckContext): void {
  const seen = new Map<string, string>();
  const threaded = isRaw(view.raw.gateway) && view.raw.gateway.acquisitionThread === true;
  for (const [id, bus] of view.buses) {
    if (threaded && bus.kind === 'serial') {
      list.add(
        ['gateway', 'acquisitionThread'],
        `bus ${id} is a serial line, which a worker thread cannot poll`,
        {
          hint: 'the serial port driver works on the main thread only: use acquisitionThread with tcp and rtu-over-tcp buses',
        },
      );
    }
    const endpoint = bus.kind === 'serial' ? bus.port : `${bus.host}:${bus.port}`;
    const prior = seen.get(endpoint);
    const at = ['buses', id, bus.kind === 'serial' ? 'port' : 'host'];
    if (prior !== undefined) {
      list.add(at, `${endpoint} is also bus ${prior}: one physical line must be one bus`, {
        hint: 'put all devices on that line under one bus so their requests never overlap',
        severity: bus.kind === 'tcp' ? 'warning' : 'error',
      });
    } else seen.set(endpoint, id);
    // Raw entries count, so a device with a mistake of its own does not make its bus look unused.
    const used = Object.values(isRaw(view.raw.devices) ? view.raw.devices : {}).some(
      (d) => isRaw(d) && d.bus === id && d.enabled !== false,
    );
    if (!used) list.add(['buses', id], 'no enabled device uses this bus', { severity: 'warning' });
  }
}

function checkDevices(view: ConfigView, { list, profiles }: CrossCheckContext): void {
  const unitIds = new Map<string, string>();
  for (const [id, d] of view.devices) {
    const at = ['devices', id];
    if (!view.busIds.includes(d.bus)) {
      list.add([...at, 'bus'], `no bus "${d.bus}"`, { hint: didYouMean(d.bus, view.busIds, 'bus') });
    }
    const bus = view.buses.get(d.bus);
    if (bus && bus.kind !== 'tcp' && (d.unitId < 1 || d.unitId > 247)) {
      list.add([...at, 'unitId'], `unit id ${d.unitId} cannot be polled on a serial line`, {
        hint: '1-247: 0 is broadcast (nobody answers), 248-255 are reserved',
      });
    }
    if (d.enabled) {
      const key = `${d.bus}#${d.unitId}`;
      const other = unitIds.get(key);
      if (other !== undefined) {
        list.add([...at, 'unitId'], `unit id ${d.unitId} is also used by ${other} on bus ${d.bus}`, {
          hint: 'give each device on a bus its own unit id (set it on the device first)',
        });
      } else unitIds.set(key, id);
    }
    if (!profiles.has(d.profile)) {
      list.add([...at, 'profile'], `no device profile "${d.profile}"`, {
        hint: didYouMean(
          d.profile,
          profiles.all().map((p) => p.id),
          'profile',
        ),
      });
      continue;
    }
    const profile = profiles.get(d.profile);
    if (bus && bus.kind !== 'tcp') compareLine(bus, profile, at, list);
    checkOverrides(d, profile, at, list);
  }
}

function compareLine(
  bus: Exclude<BusConfig, { kind: 'tcp' }>,
  profile: Profile,
  at: PropertyKey[],
  list: ProblemList,
) {
  const s = profile.serial;
  const factory = `${s.baud} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;
  if (factory !== lineOf(bus)) {
    list.add([...at, 'bus'], `${profile.id} leaves the factory at ${factory}; bus ${lineOf(bus)}`, {
      hint: 'set the device to the bus’s line settings before commissioning',
      severity: 'warning',
    });
  }
}

function checkOverrides(d: DeviceConfig, profile: Profile, at: PropertyKey[], list: ProblemList): void {
  const keys = profile.points.map((p) => p.key);
  const o = d.overrides;
  for (const key of Object.keys(o?.points ?? {})) {
    if (!keys.includes(key)) {
      list.add([...at, 'overrides', 'points', key], `${profile.id} has no point "${key}"`, {
        hint: didYouMean(key, keys, 'point'),
      });
    }
  }
  const skip = o?.skip ?? [];
  skip.forEach((key, i) => {
    if (!keys.includes(key)) {
      list.add([...at, 'overrides', 'skip', i], `${profile.id} has no point "${key}"`, {
        hint: didYouMean(key, keys, 'point'),
      });
    }
    const rules = profile.status.filter((s) => s.source === key);
    if (rules.length > 0) {
      list.add(
        [...at, 'overrides', 'skip', i],
        `skipping status point "${key}" turns off ${rules.length} flag rule(s)`,
        {
          severity: 'warning',
        },
      );
    }
  });
  const polled = profile.points.filter((p) => p.role === 'measurement' && !skip.includes(p.key));
  if (polled.length === 0) list.add([...at, 'overrides', 'skip'], 'every measurement point is skipped');
}

/** Checks a `device/point` reference; returns the profile point when it resolves. */
function checkRef(
  ref: string,
  at: PropertyKey[],
  view: ConfigView,
  { list, profiles }: CrossCheckContext,
  allowed?: readonly string[],
) {
  const r = parsePointRef(ref);
  if (!r) return undefined;
  if (!view.deviceIds.includes(r.device)) {
    list.add(at, `no device "${r.device}"`, { hint: didYouMean(r.device, view.deviceIds, 'device') });
    return undefined;
  }
  if (allowed && !allowed.includes(r.device)) {
    list.add(at, `device ${r.device} is not one of this outlet’s devices`, { hint: 'add it to devices' });
  }
  const d = view.devices.get(r.device);
  if (!d || !profiles.has(d.profile)) return undefined;
  const profile = profiles.get(d.profile);
  const point = profile.points.find((p) => p.key === r.point);
  if (!point) {
    const keys = profile.points.map((p) => p.key);
    list.add(at, `${profile.id} has no point "${r.point}"`, { hint: didYouMean(r.point, keys, 'point') });
    return undefined;
  }
  if (d.overrides?.skip?.includes(r.point)) list.add(at, `point ${ref} is skipped on its device`);
  return point;
}

function checkDeviceIds(
  ids: readonly string[],
  at: PropertyKey[],
  view: ConfigView,
  list: ProblemList,
): void {
  ids.forEach((id, i) => {
    if (!view.deviceIds.includes(id)) {
      list.add([...at, i], `no device "${id}"`, { hint: didYouMean(id, view.deviceIds, 'device') });
    }
  });
}

function checkOutlets(view: ConfigView, ctx: CrossCheckContext): void {
  const { list } = ctx;
  for (const [id, o] of view.outlets) {
    const at = ['outlets', id];
    checkDeviceIds(o.devices, [...at, 'devices'], view, list);
    if (o.o2 !== undefined) {
      const p = checkRef(o.o2, [...at, 'o2'], view, ctx, o.devices);
      if (p && p.unit !== '%') list.add([...at, 'o2'], `${o.o2} is in "${p.unit}", not %`);
    }
    for (const [k, ref] of Object.entries(o.flue ?? {})) {
      if (ref !== undefined) checkRef(ref, [...at, 'flue', k], view, ctx, o.devices);
    }
    for (const [ref, limit] of Object.entries(o.limits)) {
      checkRef(ref, [...at, 'limits', ref], view, ctx, o.devices);
      if (limit.corrected && o.referenceO2Pct === undefined) {
        list.add([...at, 'limits', ref, 'corrected'], 'a corrected limit needs referenceO2Pct on the outlet');
      }
    }
  }
}

function checkUplinks(view: ConfigView, ctx: CrossCheckContext): void {
  const { list } = ctx;
  const tls = view.mqtt?.tls;
  if (tls?.insecureSkipVerifyForTestsOnly && !ctx.allowInsecureTls) {
    list.add(
      ['uplinks', 'mqtt', 'tls', 'insecureSkipVerifyForTestsOnly'],
      'certificate checks may be off only in tests',
      {
        hint: 'give the broker’s CA in tls.ca instead',
      },
    );
  }
  for (const key of ['ca', 'cert'] as const) {
    const file = tls?.[key];
    if (file !== undefined && !readable(isAbsolute(file) ? file : join(ctx.dir, file))) {
      list.add(['uplinks', 'mqtt', 'tls', key], `cannot read ${file}`, {
        hint: 'paths are relative to the config file',
      });
    }
  }
  const keys = [
    [['signingKey'], view.mqtt?.signingKey, 'create it with `lantian keys init`; '],
    [['commands', 'platformKey'], view.mqtt?.commands?.platformKey, 'the platform operator gives it; '],
  ] as const;
  for (const [at, file, how] of keys) {
    if (file !== undefined && !readable(isAbsolute(file) ? file : join(ctx.dir, file))) {
      list.add(['uplinks', 'mqtt', ...at], `cannot read ${file}`, {
        hint: `${how}paths are relative to the config file`,
      });
    }
  }
  if (tls?.key && ctx.secrets.has(tls.key.secret) && !readable(ctx.secrets.path(tls.key))) {
    list.add(
      ['uplinks', 'mqtt', 'tls', 'key'],
      `cannot read the key file named by secret ${tls.key.secret}`,
      {
        hint: 'paths in the secrets file are relative to the secrets file',
      },
    );
  }
  for (const [name, p] of view.hj212) {
    const at = ['uplinks', 'hj212', name];
    let devices = p.devices ?? [];
    if (p.devices) checkDeviceIds(p.devices, [...at, 'devices'], view, list);
    if (p.outlet !== undefined) {
      if (!view.outletIds.includes(p.outlet)) {
        list.add([...at, 'outlet'], `no outlet "${p.outlet}"`, {
          hint: didYouMean(p.outlet, view.outletIds, 'outlet'),
        });
      }
      devices = view.outlets.get(p.outlet)?.devices ?? [];
    }
    const profiles = devices.flatMap((d) => {
      const id = view.devices.get(d)?.profile;
      return id !== undefined && ctx.profiles.has(id) ? [ctx.profiles.get(id)] : [];
    });
    if (profiles.length > 0 && !profiles.some((pr) => pr.points.some((pt) => pt.hj212 !== undefined))) {
      list.add(at, 'none of its devices has a point with an HJ 212 code: nothing would be sent', {
        severity: 'warning',
      });
    }
    checkHj212Secrets(p, at, ctx);
  }
}

function checkHj212Secrets(p: Hj212Config, at: PropertyKey[], { list, secrets }: CrossCheckContext): void {
  if (secrets.has(p.password.secret) && secrets.reveal(p.password).length !== 6) {
    list.add(
      [...at, 'password'],
      `secret ${p.password.secret} is not 6 characters long as HJ 212 specifies`,
      {
        severity: 'warning',
      },
    );
  }
  if (p.sm4Key && secrets.has(p.sm4Key.secret)) {
    const key = secrets.reveal(p.sm4Key);
    if (!/^[\x20-\x7e]{16}$/.test(key) && !/^[0-9a-fA-F]{32}$/.test(key)) {
      list.add([...at, 'sm4Key'], `secret ${p.sm4Key.secret} is not an SM4 key`, {
        hint: '16 ASCII characters or 32 hex digits (128 bits)',
      });
    }
  }
}

function checkSiteIo(view: ConfigView, { list }: CrossCheckContext): void {
  const io = view.siteIo;
  if (!io) return;
  const pins = new Map<number, string>();
  const groups = { dryContacts: io.dryContacts, relays: io.relays } as Record<
    string,
    Record<string, { pin: number }>
  >;
  for (const [group, byName] of Object.entries(groups)) {
    for (const [name, { pin }] of Object.entries(byName)) {
      const other = pins.get(pin);
      if (other !== undefined) list.add(['siteIo', group, name, 'pin'], `pin ${pin} is also ${other}`);
      else pins.set(pin, `${group}.${name}`);
    }
  }
  // The beacon is an output like a relay: its own pin, and not on a contact's port.
  const outputs: [PropertyKey[], number][] = Object.entries(io.relays).map(([n, r]) => [
    ['relays', n],
    r.pin,
  ]);
  if (io.beacon) {
    const other = pins.get(io.beacon.pin);
    if (other !== undefined) list.add(['siteIo', 'beacon', 'pin'], `pin ${io.beacon.pin} is also ${other}`);
    outputs.push([['beacon'], io.beacon.pin]);
  }
  // johnny-five writes whole 8-pin ports from its cached values: a relay write on a contact's
  // port would switch that contact's pull-up off (docs/site-io.md, wiring).
  const contactPorts = new Map(Object.entries(io.dryContacts).map(([name, c]) => [c.pin >> 3, name]));
  for (const [at, pin] of outputs) {
    const contact = contactPorts.get(pin >> 3);
    if (contact !== undefined)
      list.add(
        ['siteIo', ...at, 'pin'],
        `pin ${pin} is on the same port (pins ${(pin >> 3) * 8}-${(pin >> 3) * 8 + 7}) as dry contact ${contact}; put relays and contacts on different ports`,
      );
  }
  const known = new Set(view.deviceIds);
  for (const [name, c] of Object.entries(io.dryContacts)) {
    const needsDevice = c.role === 'maintenance' || c.role === 'calibration';
    if (needsDevice && c.device === undefined)
      list.add(['siteIo', 'dryContacts', name, 'device'], `a ${c.role} contact names the analyzer it flags`);
    else if (c.device !== undefined && !known.has(c.device))
      list.add(['siteIo', 'dryContacts', name, 'device'], `no device "${c.device}"`);
  }
  for (const [name, r] of Object.entries(io.relays)) {
    for (const key of ['point', 'windPoint'] as const) {
      const ref = r.linkage?.[key];
      const device = ref?.split('/')[0];
      if (device !== undefined && !known.has(device))
        list.add(['siteIo', 'relays', name, 'linkage', key], `no device "${device}"`);
    }
  }
  const analog = new Map<string, string>();
  for (const [name, { pin }] of Object.entries(io.analogInputs)) {
    const other = analog.get(pin);
    if (other !== undefined) list.add(['siteIo', 'analogInputs', name, 'pin'], `pin ${pin} is also ${other}`);
    else analog.set(pin, name);
  }
}

/** Dust limits and the wind point name a device's point or a UART sensor's (pmSensors). */
function checkDust(view: ConfigView, ctx: CrossCheckContext): void {
  const d = view.dust;
  if (!d) return;
  const sensors = isRaw(view.raw.pmSensors) ? view.raw.pmSensors : {};
  const ref = (text: string, at: PropertyKey[]) => {
    const r = parsePointRef(text);
    const sensor = r ? sensors[r.device] : undefined;
    if (!r || !isRaw(sensor)) return checkRef(text, at, view, ctx);
    const points: readonly string[] = PM_SENSOR_POINTS[sensor.model as PmModel] ?? [];
    if (!points.includes(r.point))
      ctx.list.add(at, `UART sensor ${r.device} has no point "${r.point}"`, {
        hint: didYouMean(r.point, points, 'point'),
      });
    return undefined;
  };
  for (const key of Object.keys(d.limits)) ref(key, ['dust', 'limits', key]);
  if (d.highWind) {
    const p = ref(d.highWind.point, ['dust', 'highWind', 'point']);
    if (p && p.unit !== 'm/s')
      ctx.list.add(['dust', 'highWind', 'point'], `${d.highWind.point} is in "${p.unit}", not m/s`);
  }
}

function checkSecrets(view: ConfigView, ctx: CrossCheckContext): void {
  const { list, secrets, secretsFile } = ctx;
  if (!ctx.checkSecretRefs) return;
  for (const ref of findSecretRefs(view.raw)) {
    if (secrets.has(ref.name) || ctx.rejectedSecrets.has(ref.name)) continue;
    list.add(
      ref.path,
      secretsFile === undefined
        ? `secret "${ref.name}" but no secrets file`
        : `no secret "${ref.name}" in ${secretsFile}`,
      {
        code: 'CONFIG_SECRET_MISSING',
        hint:
          secretsFile === undefined
            ? 'set secretsFile: or pass --secrets FILE'
            : didYouMean(ref.name, secrets.names(), 'secret'),
      },
    );
  }
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
