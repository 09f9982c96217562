/**
 * The profile library the device nodes name profiles from: the package's own copy of
 * device-profiles/ (copied in at build time), loaded once and shared by every node.
 */
import { loadProfiles, type ProfileRegistry } from '../../gateway/src/profiles/loader.js';

let registry: ProfileRegistry | undefined;

export function profileLibrary(): ProfileRegistry {
  registry ??= loadProfiles();
  return registry;
}

/** What the editor shows in its profile list: id, vendor, model and the points with their units. */
export function profileSummaries(): { id: string; vendor: string; model: string; points: string[] }[] {
  return profileLibrary()
    .all()
    .map((p) => ({
      id: p.id,
      vendor: p.vendor,
      model: p.model,
      points: p.points.filter((x) => x.role === 'measurement').map((x) => x.key),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
