/**
 * `lantian scan --write FILE`: the devices a scan identified, added to a site config as a bus
 * and one device entry each (best candidate, its unit id). An existing file keeps its comments
 * and entries; a missing one is started with placeholders that `check-config` then judges.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import { CURRENT_VERSION } from '../config/schema.js';
import type { Found, ScanTarget } from './scan.js';

export interface WriteResult {
  bus: string;
  devices: string[];
  /** Devices found without a candidate good enough to write. */
  left: Found[];
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

function busEntry(target: ScanTarget, f: Found | undefined): Record<string, unknown> {
  switch (target.kind) {
    case 'serial':
      return {
        kind: 'serial',
        port: target.port,
        baud: f?.line?.baud ?? 9600,
        parity: f?.line?.parity ?? 'none',
      };
    case 'rtu-over-tcp':
      return { kind: 'rtu-over-tcp', host: target.host, port: target.port };
    case 'tcp':
      return { kind: 'tcp', host: target.host, port: target.port };
  }
}

function startDocument(): Document {
  return parseDocument(
    `# Started by lantian scan: fill in site, gateway and storage, then run lantian check-config.\n` +
      `version: ${CURRENT_VERSION}\nsite: { id: new-site, name: New site }\ngateway: { id: gateway-1 }\n` +
      `buses: {}\ndevices: {}\nstorage: { path: /var/lib/lantian/log.db }\n`,
  );
}

/**
 * Adds one bus per line setting that has devices (a line with devices at two bauds is a
 * wiring or configuration fault to fix, so each setting gets its own bus entry to show it).
 */
export function writeFound(
  file: string,
  target: ScanTarget,
  found: readonly Found[],
  busId: string,
  minConfidence: number,
): WriteResult[] {
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : startDocument();
  const taken = (path: string[]) => doc.hasIn(path);
  const results: WriteResult[] = [];
  const bySetting = new Map<string, Found[]>();
  for (const f of found) {
    const key = f.line ? `${f.line.baud}-${f.line.parity}` : '';
    bySetting.set(key, [...(bySetting.get(key) ?? []), f]);
  }
  let n = 0;
  for (const group of bySetting.values()) {
    let bus = n++ === 0 ? busId : `${busId}-${n}`;
    while (taken(['buses', bus])) bus = `${bus}-x`;
    const result: WriteResult = { bus, devices: [], left: [] };
    for (const f of group) {
      const best = f.candidates[0];
      if (!best || best.confidence < minConfidence) {
        result.left.push(f);
        continue;
      }
      let id = `${slug(best.profile.split('.').pop() ?? 'device')}-${f.unitId}`;
      while (taken(['devices', id])) id = `${id}-x`;
      doc.setIn(['devices', id], doc.createNode({ profile: best.profile, bus, unitId: f.unitId }));
      result.devices.push(id);
    }
    if (result.devices.length > 0) doc.setIn(['buses', bus], doc.createNode(busEntry(target, group[0])));
    results.push(result);
  }
  writeFileSync(file, doc.toString());
  return results;
}
