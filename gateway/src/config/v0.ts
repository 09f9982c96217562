/**
 * Version 0: the draft format used before the schema settled (see docs/config.md).
 * Buses, devices, outlets and HJ 212 platforms were lists with a `name`; addresses were
 * `host:port` strings; times were seconds; parity was a letter; MQTT sat at the top level.
 */
import { isRaw, migrationFailed, type Migration, type Raw } from './raw.js';

/** A v0 list of `{ name, … }` entries -> a v1 map keyed by name. */
function listToMap(
  raw: Raw,
  key: string,
  convert: (entry: Raw, path: PropertyKey[]) => Raw,
): Raw | undefined {
  const list = raw[key];
  if (list === undefined) return undefined;
  if (!Array.isArray(list))
    throw migrationFailed([key], 'version 0 keeps this as a list of entries with a name');
  const out: Raw = {};
  list.forEach((entry: unknown, i) => {
    if (!isRaw(entry) || typeof entry.name !== 'string')
      throw migrationFailed([key, i, 'name'], 'an entry without a name');
    if (entry.name in out) throw migrationFailed([key, i, 'name'], `"${entry.name}" appears twice`);
    const { name, ...rest } = entry;
    out[name] = convert(rest, [key, i]);
  });
  return out;
}

/** Renames keys, keeping any key it does not know so the schema can report it. */
function rename(entry: Raw, names: Record<string, string>): Raw {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [names[k] ?? k, v]));
}

function splitAddress(entry: Raw, path: PropertyKey[]): Raw {
  const address = entry.address;
  if (address === undefined) return entry;
  const m = typeof address === 'string' ? /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address) : null;
  if (!m) throw migrationFailed([...path, 'address'], 'expected host:port');
  // host and port take the place of address, so the migrated file reads in the same order.
  return Object.fromEntries(
    Object.entries(entry).flatMap(([k, v]) =>
      k === 'address'
        ? [
            ['host', m[1]!.replace(/^\[|\]$/g, '')],
            ['port', Number(m[2])],
          ]
        : [[k, v]],
    ),
  );
}

const seconds = (v: unknown): unknown => (typeof v === 'number' ? Math.round(v * 1000) : v);

const PARITY: Record<string, string> = { N: 'none', E: 'even', O: 'odd' };
const BUS_KIND: Record<string, string> = { serial: 'serial', tcp: 'tcp', 'rtu-tcp': 'rtu-over-tcp' };

function bus(entry: Raw, path: PropertyKey[]): Raw {
  const { type, timeout, parity, ...rest } = rename(splitAddress(entry, path), {
    device: 'port',
    baudrate: 'baud',
    databits: 'dataBits',
    stopbits: 'stopBits',
  });
  const out: Raw = { kind: typeof type === 'string' ? (BUS_KIND[type] ?? type) : type, ...rest };
  if (parity !== undefined)
    out.parity = typeof parity === 'string' ? (PARITY[parity.toUpperCase()] ?? parity) : parity;
  if (timeout !== undefined) out.timeoutMs = seconds(timeout);
  return out;
}

function device(entry: Raw): Raw {
  const { period, disabled, ...rest } = rename(entry, { slave: 'unitId' });
  const out: Raw = { ...rest };
  if (period !== undefined) out.periodMs = seconds(period);
  if (disabled !== undefined) out.enabled = typeof disabled === 'boolean' ? !disabled : disabled;
  return out;
}

function outlet(entry: Raw): Raw {
  const { limits, ...rest } = rename(entry, { title: 'name', o2ref: 'referenceO2Pct' });
  const out: Raw = { ...rest };
  // v0 limits were bare numbers: hourly averages at reference O2, as every v0 site had one.
  if (isRaw(limits)) out.limits = Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { max: v }]));
  else if (limits !== undefined) out.limits = limits;
  return out;
}

function hj212(entry: Raw, path: PropertyKey[]): Raw {
  return rename(splitAddress(entry, path), { pw: 'password', tz: 'timezone' });
}

export const v0ToV1: Migration = {
  from: 0,
  to: 1,
  summary: 'lists with names become maps keyed by id; host:port splits; seconds become ms',
  migrate(raw) {
    const {
      version: _v,
      site,
      siteName,
      timezone,
      gatewayId,
      secrets,
      buses,
      devices,
      outlets,
      mqtt,
      hj212: h,
      storage,
      ...rest
    } = raw;
    const out: Raw = { version: 1 };
    out.site = { id: site, name: siteName ?? site, ...(timezone === undefined ? {} : { timezone }) };
    out.gateway = { id: gatewayId };
    if (secrets !== undefined) out.secretsFile = secrets;
    out.buses = listToMap(raw, 'buses', bus) ?? buses;
    out.devices = listToMap(raw, 'devices', device) ?? devices;
    const o = listToMap(raw, 'outlets', outlet) ?? outlets;
    if (o !== undefined) out.outlets = o;
    const uplinks: Raw = {};
    if (isRaw(mqtt)) uplinks.mqtt = rename(mqtt, { broker: 'url' });
    else if (mqtt !== undefined) uplinks.mqtt = mqtt;
    const platforms = listToMap(raw, 'hj212', hj212) ?? h;
    if (platforms !== undefined) uplinks.hj212 = platforms;
    if (Object.keys(uplinks).length > 0) out.uplinks = uplinks;
    out.storage = isRaw(storage)
      ? rename(storage, { quotaMB: 'quotaMb', keepDays: 'retentionDays' })
      : storage;
    return { ...out, ...rest };
  },
};
