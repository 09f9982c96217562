/**
 * Loads device profiles: YAML -> templates merged -> zod-validated -> resolved (0-based PDU
 * addresses, explicit function and orders). Every error names the file and the path inside it.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LantianError } from '../core/errors.js';
import {
  formatPath,
  problemsError,
  readYamlFile,
  zodProblems,
  type Problem,
  type YamlFile,
} from '../core/yaml.js';
import { ProfileFile, TYPE_REGISTERS, type PointSpec, type Profile, type ResolvedPoint } from './schema.js';
import type { z } from 'zod';

/** device-profiles/ at the package root, wherever this module runs from (src or dist). */
export const DEFAULT_PROFILES_DIR = resolveProfilesDir();

function resolveProfilesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'device-profiles');
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  return resolve('device-profiles');
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Template values sit under the file's own; maps merge key by key, lists and scalars are replaced. */
function mergeUnder(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? mergeUnder(b, v) : v;
  }
  return out;
}

function readTemplate(templatesDir: string, name: string, from: YamlFile, usePath: PropertyKey[]): Raw {
  const file = join(templatesDir, `${name}.yaml`);
  let y: YamlFile;
  try {
    y = readYamlFile(file, 'PROFILE_TEMPLATE_NOT_FOUND', 'PROFILE_YAML');
  } catch (e) {
    if (e instanceof LantianError && e.code === 'PROFILE_TEMPLATE_NOT_FOUND') {
      throw problemsError('PROFILE_TEMPLATE_NOT_FOUND', [
        {
          file: from.file,
          path: formatPath(usePath),
          message: `template "${name}" not found`,
          line: from.lineOf(usePath),
          hint: `expected ${relative(process.cwd(), file)}`,
        },
      ]);
    }
    throw e;
  }
  if (!isObject(y.data))
    throw problemsError('PROFILE_INVALID', [{ file, path: '', message: 'a template must be a map' }]);
  return y.data;
}

/** Parses and validates one profile file, merging its templates. */
export function loadProfileFile(
  file: string,
  templatesDir = join(dirname(file), '..', 'templates'),
): Profile {
  const y = readYamlFile(file, 'PROFILE_NOT_FOUND', 'PROFILE_YAML');
  if (!isObject(y.data)) {
    throw problemsError('PROFILE_INVALID', [{ file, path: '', message: 'a profile must be a YAML map' }]);
  }
  let merged: Raw = {};
  const use = y.data.use;
  if (Array.isArray(use)) {
    use.forEach((name, i) => {
      if (typeof name === 'string')
        merged = mergeUnder(merged, readTemplate(templatesDir, name, y, ['use', i]));
    });
  }
  merged = mergeUnder(merged, y.data);
  const parsed = ProfileFile.safeParse(merged);
  if (!parsed.success) throw problemsError('PROFILE_INVALID', zodProblems(y, parsed.error));
  const profile = resolveProfile(parsed.data, file, y);
  return profile;
}

function registersOf(p: PointSpec, fn: number): number | undefined {
  if (fn === 1 || fn === 2) return p.type === 'bits' ? (p.bits?.width ?? 1) : undefined;
  if (p.type === 'string' || p.type === 'bcd') return p.length;
  return TYPE_REGISTERS[p.type];
}

function resolveProfile(data: z.output<typeof ProfileFile>, file: string, y: YamlFile): Profile {
  const problems: Problem[] = [];
  const defaults = data.defaults ?? { function: 3, wordOrder: 'high-first', byteOrder: 'big' };
  const points: ResolvedPoint[] = [];
  for (const [key, p] of Object.entries(data.points)) {
    const fn = p.function ?? defaults.function;
    const base = p.base ?? data.addressBase;
    const count = registersOf(p, fn);
    const at = ['points', key];
    if (count === undefined) {
      const message =
        fn === 1 || fn === 2
          ? `function ${fn} reads bits: the type must be bits, not ${p.type}`
          : `type ${p.type} needs length (registers)`;
      problems.push({ file, path: at.join('.'), message, line: y.lineOf(at) });
      continue;
    }
    if (base === 1 && p.address === 0) {
      problems.push({
        file,
        path: [...at, 'address'].join('.'),
        message: 'address 0 does not exist in 1-based numbering',
        line: y.lineOf([...at, 'address']),
        hint: 'set base: 0 on this point if the address is a PDU address',
      });
      continue;
    }
    const { function: _f, base: _b, wordOrder, byteOrder, ...rest } = p;
    points.push({
      ...rest,
      key,
      function: fn,
      pdu: p.address - base,
      count,
      wordOrder: wordOrder ?? defaults.wordOrder,
      byteOrder: byteOrder ?? defaults.byteOrder,
    });
  }
  if (problems.length > 0) throw problemsError('PROFILE_INVALID', problems);
  return {
    id: data.id,
    vendor: data.vendor,
    model: data.model,
    description: data.description,
    category: data.category,
    sources: data.sources,
    confidence: data.confidence,
    identification: data.identification,
    serial: data.serial ?? ProfileDefaults.serial(),
    quirks: data.quirks ?? ProfileDefaults.quirks(),
    points,
    status: data.status ?? [],
    unreadable: data.unreadable ?? [],
    examples: data.examples ?? [],
    file,
  };
}

const ProfileDefaults = {
  serial: () => ProfileFile.shape.serial.unwrap().parse({}),
  quirks: () => ProfileFile.shape.quirks.unwrap().parse({}),
};

/** All profiles under a directory (one `<vendor>/<model>.yaml` per model), indexed by id. */
export class ProfileRegistry {
  private readonly byId = new Map<string, Profile>();

  constructor(profiles: Iterable<Profile>) {
    for (const p of profiles) {
      const prior = this.byId.get(p.id);
      if (prior) {
        const problem: Problem = {
          file: p.file,
          path: 'id',
          message: `profile id "${p.id}" is also used by ${prior.file}`,
        };
        const e = problemsError('PROFILE_DUPLICATE_ID', [problem]);
        Object.assign(e.context, { id: p.id, files: [prior.file, p.file] });
        throw e;
      }
      this.byId.set(p.id, p);
    }
  }

  get(id: string): Profile {
    const p = this.byId.get(id);
    if (!p) {
      throw new LantianError('PROFILE_NOT_FOUND', `no device profile with id "${id}"`, {
        context: { id, known: [...this.byId.keys()] },
      });
    }
    return p;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): Profile[] {
    return [...this.byId.values()];
  }
}

export function profileFiles(dir: string): string[] {
  const out: string[] = [];
  for (const vendor of readdirSync(dir, { withFileTypes: true })) {
    if (!vendor.isDirectory() || vendor.name === 'templates') continue;
    for (const f of readdirSync(join(dir, vendor.name))) {
      if (f.endsWith('.yaml') || f.endsWith('.yml')) out.push(join(dir, vendor.name, f));
    }
  }
  return out.sort();
}

export function loadProfiles(dir = DEFAULT_PROFILES_DIR): ProfileRegistry {
  return new ProfileRegistry(profileFiles(dir).map((f) => loadProfileFile(f, join(dir, 'templates'))));
}

export const profileFileName = (p: Profile): string => basename(p.file);
