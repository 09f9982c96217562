/**
 * Loads a site config: YAML -> version check and migration -> schema -> cross-references
 * -> secrets. Every problem is collected (not just the first) and located as FILE:PATH.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { isLantianError } from '../core/errors.js';
import { readYamlFile } from '../core/yaml.js';
import {
  DEFAULT_PROFILES_DIR,
  loadProfileFile,
  loadProfiles,
  profileFiles,
  ProfileRegistry,
  type Profile,
} from '../profiles/index.js';
import { crossCheck, type ConfigView } from './crossref.js';
import { optionKeysAt } from './docs.js';
import { migrateRaw, versionOf } from './migrations.js';
import {
  configError,
  errorsOf,
  fileProblems,
  ProblemList,
  zodMessages,
  type ConfigProblem,
} from './problems.js';
import { isRaw, type Raw } from './raw.js';
import {
  CURRENT_VERSION,
  ENTRY_SCHEMAS,
  Hj212Platform,
  Mqtt,
  SiteConfigSchema,
  SiteIo,
  type SiteConfig,
} from './schema.js';
import { Dust } from './schema-dust.js';
import { readSecretsFile, Secrets, type SecretsRead } from './secrets.js';
import { findUnsupported, refusal } from './unsupported.js';

export interface LoadOptions {
  /** Profiles to check device entries against. Default: loadProfiles(profilesDir). */
  profiles?: ProfileRegistry;
  /** Where to load profiles from when `profiles` is not given. Default: device-profiles/. */
  profilesDir?: string;
  /**
   * A site's own profile folder (`--profiles DIR`), added to the library: its profiles join the
   * bundled ones, and one with the id of a bundled profile replaces it (with a warning).
   */
  siteProfilesDir?: string;
  /** Secrets file; wins over the config's `secretsFile`. Relative to the working directory. */
  secretsFile?: string;
  /** Lets `tls.insecureSkipVerifyForTestsOnly` through. Only tests set it. */
  allowInsecureTls?: boolean;
}

export interface LoadedConfig {
  file: string;
  /** The config with defaults applied and relative paths (storage, TLS files) made absolute. */
  config: SiteConfig;
  secrets: Secrets;
  profiles: ProfileRegistry;
  warnings: ConfigProblem[];
  /** The file's version when it was older than CURRENT_VERSION and migrated in memory. */
  migratedFrom?: number;
}

export interface Inspection {
  problems: ConfigProblem[];
  /** Present when there are no errors. */
  loaded?: LoadedConfig;
}

/** Checks a file and returns every problem; never throws for anything wrong with the file. */
export function inspectSiteConfig(file: string, options: LoadOptions = {}): Inspection {
  let y;
  try {
    y = readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML');
  } catch (e) {
    if (!isLantianError(e)) throw e;
    return { problems: fileProblems(e, file) };
  }
  return inspectRaw(y.data, file, (path) => y.lineOf(path), options);
}

/** Like inspectSiteConfig, for a raw object already read (migrate-config checks its result). */
export function inspectRaw(
  data: unknown,
  file: string,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
  options: LoadOptions = {},
): Inspection {
  const library = options.profiles
    ? { profiles: options.profiles, replaced: [] }
    : withSiteProfiles(loadProfiles(options.profilesDir), options.siteProfilesDir);
  const profiles = library.profiles;
  const found = versionOf(data);
  if ('problem' in found) {
    const list = new ProblemList(file, lineOf);
    list.add(isRaw(data) ? ['version'] : [], found.problem, { hint: found.hint });
    return { problems: list.items };
  }
  let raw = data as Raw;
  let migratedFrom: number | undefined;
  const notes = new ProblemList(file, lineOf);
  if (found.version !== CURRENT_VERSION) {
    try {
      raw = migrateRaw(raw).data;
    } catch (e) {
      if (!isLantianError(e)) throw e;
      notes.add(['version'], e.message, { code: e.code, hint: hintFor(e.code, file) });
      return { problems: notes.items };
    }
    migratedFrom = found.version;
    notes.add(
      ['version'],
      `version ${found.version} is out of date (current: ${CURRENT_VERSION}); read through migration`,
      {
        hint: `run lantian migrate-config ${file}`,
        severity: 'warning',
      },
    );
  }
  const list =
    migratedFrom === undefined
      ? new ProblemList(file, lineOf)
      : new ProblemList(file, () => undefined, `path after migration to version ${CURRENT_VERSION}`);
  const parsed = SiteConfigSchema.safeParse(raw, { error: zodMessages });
  if (!parsed.success)
    list.addZod(parsed.error, { keysAt: optionKeysAt, valueAt: (path) => valueAt(raw, path) });
  for (const use of findUnsupported(raw)) {
    const { message, hint } = refusal(use);
    list.add(use.path, message, { code: 'CONFIG_UNSUPPORTED', hint });
  }

  const dir = dirname(file);
  const view = viewOf(raw);
  const named =
    options.secretsFile ?? (typeof raw.secretsFile === 'string' ? inDir(dir, raw.secretsFile) : undefined);
  const fromSecrets: SecretsRead =
    named === undefined
      ? { secrets: Secrets.empty(), problems: [], rejected: new Set() }
      : readSecretsFile(named);
  const secretsUnreadable = fromSecrets.problems.some((p) => p.code === 'CONFIG_NOT_FOUND');
  crossCheck(view, {
    list,
    profiles,
    secrets: fromSecrets.secrets,
    dir,
    secretsFile: secretsUnreadable ? undefined : named,
    checkSecretRefs: !secretsUnreadable,
    rejectedSecrets: fromSecrets.rejected,
    allowInsecureTls: options.allowInsecureTls ?? false,
  });

  const problems = [
    ...notes.items,
    ...byLine(list.items),
    ...fromSecrets.problems,
    ...library.replaced.map(replacedProblem),
  ];
  if (!parsed.success || errorsOf(problems).length > 0) return { problems };
  const config = absolutePaths(parsed.data, dir);
  return {
    problems,
    loaded: {
      file,
      config,
      secrets: fromSecrets.secrets,
      profiles,
      warnings: problems,
      ...(migratedFrom === undefined ? {} : { migratedFrom }),
    },
  };
}

/** Every problem in a site config (errors and warnings). */
export function checkSiteConfig(file: string, options: LoadOptions = {}): ConfigProblem[] {
  return inspectSiteConfig(file, options).problems;
}

/** Loads a site config or throws a CONFIG_* LantianError whose `context.problems` lists every problem. */
export function loadSiteConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  const { problems, loaded } = inspectSiteConfig(file, options);
  if (!loaded) throw configError(problems);
  return loaded;
}

/** The bundled library plus a site's own folder; same ids: the site's profile wins. */
export function withSiteProfiles(
  bundled: ProfileRegistry,
  dir: string | undefined,
): { profiles: ProfileRegistry; replaced: { site: Profile; bundled: Profile }[] } {
  if (dir === undefined) return { profiles: bundled, replaced: [] };
  // The site's templates when it has a templates/ folder, else the bundled ones.
  const own = join(dir, 'templates');
  const templates = existsSync(own) ? own : join(DEFAULT_PROFILES_DIR, 'templates');
  const site = profileFiles(dir).map((f) => loadProfileFile(f, templates));
  const ids = new Set(site.map((p) => p.id));
  const replaced = site.flatMap((p) => (bundled.has(p.id) ? [{ site: p, bundled: bundled.get(p.id) }] : []));
  return {
    profiles: new ProfileRegistry([...bundled.all().filter((p) => !ids.has(p.id)), ...site]),
    replaced,
  };
}

function replacedProblem(r: { site: Profile; bundled: Profile }): ConfigProblem {
  return {
    file: r.site.file,
    path: 'id',
    message: `replaces the bundled profile ${r.site.id} (${r.bundled.file}) for this site`,
    hint: 'give it an id of its own (e.g. a -site suffix) unless it is meant to correct the bundled one',
    code: 'PROFILE_DUPLICATE_ID',
    severity: 'warning',
  };
}

function hintFor(code: string, file: string): string | undefined {
  if (code === 'CONFIG_VERSION_UNSUPPORTED')
    return 'this file was written for a newer Lantian: upgrade the gateway';
  if (code === 'CONFIG_MIGRATION_FAILED') return `fix ${file} by hand or start from examples/site.yaml`;
  return undefined;
}

/** In file order; problems without a line (whole sections) keep their place at the end. */
const byLine = (items: ConfigProblem[]): ConfigProblem[] =>
  items
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);

const inDir = (dir: string, p: string): string => (isAbsolute(p) ? p : join(dir, p));

/** Entries that pass the schema one by one, so cross-checks run even when others fail. */
function viewOf(raw: Raw): ConfigView {
  const section = <S extends z.ZodType>(value: unknown, schema: S) => {
    const ids = isRaw(value) ? Object.keys(value) : [];
    const valid = new Map<string, z.output<S>>();
    for (const id of ids) {
      const data = parseLeniently(schema, (value as Raw)[id]);
      if (data !== undefined) valid.set(id, data);
    }
    return { ids, valid };
  };
  const uplinks = isRaw(raw.uplinks) ? raw.uplinks : {};
  const buses = section(raw.buses, ENTRY_SCHEMAS.buses);
  const devices = section(raw.devices, ENTRY_SCHEMAS.devices);
  const outlets = section(raw.outlets, ENTRY_SCHEMAS.outlets);
  const mqtt = parseLeniently(Mqtt, uplinks.mqtt);
  const siteIo = parseLeniently(SiteIo, raw.siteIo);
  const dust = parseLeniently(Dust, raw.dust);
  return {
    raw,
    busIds: buses.ids,
    deviceIds: devices.ids,
    outletIds: outlets.ids,
    buses: buses.valid,
    devices: devices.valid,
    outlets: outlets.valid,
    hj212: section(uplinks.hj212, Hj212Platform).valid,
    ...(mqtt ? { mqtt } : {}),
    ...(siteIo ? { siteIo } : {}),
    ...(dust ? { dust } : {}),
  };
}

/**
 * Parses one entry for the cross-checks. When it fails, the offending keys are dropped (unknown
 * keys, bad values of optional or defaulted options) and it is tried again, so a typo in one
 * key does not hide a wrong reference in another. A required key that is still wrong takes its
 * parent with it on the next round (a bad analog input drops that input, not all of site I/O).
 * The schema problems themselves are reported from the full parse.
 */
function parseLeniently<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  if (value === undefined) return undefined;
  const candidate: unknown = structuredClone(value);
  const seen = new Map<string, number>();
  for (let round = 0; round < 6; round++) {
    const r = schema.safeParse(candidate);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      for (const key of keys) {
        const path = key === undefined ? issue.path : [...issue.path, key];
        const id = JSON.stringify(path);
        const times = seen.get(id) ?? 0;
        seen.set(id, times + 1);
        dropAt(candidate, path.slice(0, Math.max(0, path.length - times)));
      }
    }
  }
  return undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path)
    node = isRaw(node) || Array.isArray(node) ? (node as Raw)[key as string] : undefined;
  return node;
}

function dropAt(root: unknown, path: readonly PropertyKey[]): void {
  if (path.length === 0) return;
  let node = root;
  for (const key of path.slice(0, -1))
    node = isRaw(node) || Array.isArray(node) ? (node as Raw)[key as string] : undefined;
  if (isRaw(node)) delete node[path.at(-1) as string];
}

function absolutePaths(config: SiteConfig, dir: string): SiteConfig {
  const abs = (p: string) => resolve(dir, p);
  const mqtt = config.uplinks.mqtt;
  const tls = mqtt?.tls;
  return {
    ...config,
    storage: { ...config.storage, path: abs(config.storage.path) },
    uplinks: {
      ...config.uplinks,
      ...(mqtt
        ? {
            mqtt: {
              ...mqtt,
              ...(mqtt.signingKey === undefined ? {} : { signingKey: abs(mqtt.signingKey) }),
              ...(mqtt.commands === undefined
                ? {}
                : { commands: { ...mqtt.commands, platformKey: abs(mqtt.commands.platformKey) } }),
              ...(tls
                ? {
                    tls: {
                      ...tls,
                      ...(tls.ca === undefined ? {} : { ca: abs(tls.ca) }),
                      ...(tls.cert === undefined ? {} : { cert: abs(tls.cert) }),
                    },
                  }
                : {}),
            },
          }
        : {}),
    },
  };
}
