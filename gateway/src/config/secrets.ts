/**
 * The secrets file: a flat YAML map of name -> value, kept apart from the site config and
 * readable only by the service user. The config refers to entries as `{ secret: name }`.
 * Values never appear in logs, errors or JSON: `Secrets` prints its names only.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { readYamlFile, type YamlFile } from '../core/yaml.js';
import { LantianError, isLantianError } from '../core/errors.js';
import { SECRET_NAME, type SecretRef } from './schema.js';
import { fileProblems, type ConfigProblem } from './problems.js';

export class Secrets {
  readonly #values: ReadonlyMap<string, string>;
  /** The secrets file, or undefined when the config has none. */
  readonly file: string | undefined;

  constructor(values: ReadonlyMap<string, string>, file?: string) {
    this.#values = values;
    this.file = file;
  }

  static empty(): Secrets {
    return new Secrets(new Map());
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  /** The value; the only way to read one, so every use is easy to find. */
  reveal(ref: SecretRef): string {
    const v = this.#values.get(ref.secret);
    if (v === undefined) {
      throw new LantianError('CONFIG_SECRET_MISSING', `the secrets file has no secret "${ref.secret}"`, {
        context: { file: this.file, secret: ref.secret },
      });
    }
    return v;
  }

  /** A secret holding a file path: relative paths are relative to the secrets file. */
  path(ref: SecretRef): string {
    const p = this.reveal(ref);
    return isAbsolute(p) || this.file === undefined ? p : resolve(dirname(this.file), p);
  }

  toJSON(): Record<string, unknown> {
    return { file: this.file, names: this.names() };
  }

  [inspect.custom](): string {
    return `Secrets(${this.names().join(', ')})`;
  }
}

/** Every `{ secret: name }` in a raw config, with its path. */
export function findSecretRefs(
  raw: unknown,
  path: PropertyKey[] = [],
): { path: PropertyKey[]; name: string }[] {
  if (Array.isArray(raw)) return raw.flatMap((v, i) => findSecretRefs(v, [...path, i]));
  if (typeof raw !== 'object' || raw === null) return [];
  const entries = Object.entries(raw);
  if (entries.length === 1 && entries[0]?.[0] === 'secret' && typeof entries[0][1] === 'string') {
    return [{ path: [...path, 'secret'], name: entries[0][1] }];
  }
  return entries.flatMap(([k, v]) => findSecretRefs(v, [...path, k]));
}

/** Reads and checks a secrets file; problems are returned, never thrown. */
export interface SecretsRead {
  secrets: Secrets;
  problems: ConfigProblem[];
  /** Entries present but unusable (already reported), so references to them are not reported again. */
  rejected: Set<string>;
}

export function readSecretsFile(file: string): SecretsRead {
  const problems: ConfigProblem[] = [];
  const rejected = new Set<string>();
  let y: YamlFile;
  try {
    y = readYamlFile(file, 'CONFIG_NOT_FOUND', 'CONFIG_YAML');
  } catch (e) {
    if (!isLantianError(e)) throw e;
    return {
      secrets: Secrets.empty(),
      problems: fileProblems(e, file, 'the secrets file is named by secretsFile in the config or --secrets'),
      rejected,
    };
  }
  const values = new Map<string, string>();
  const add = (path: string, message: string, hint?: string) =>
    problems.push({
      file,
      path,
      message,
      line: y.lineOf(path === '' ? [] : [path]),
      hint,
      code: 'CONFIG_INVALID',
      severity: 'error',
    });
  if (y.data === null || y.data === undefined) {
    // An empty file holds no secrets; references to it are reported where they are made.
  } else if (typeof y.data !== 'object' || Array.isArray(y.data)) {
    add('', 'a secrets file is a map of name: value');
  } else {
    for (const [name, value] of Object.entries(y.data)) {
      if (typeof value === 'string' && SECRET_NAME.test(name)) {
        values.set(name, value);
        continue;
      }
      rejected.add(name);
      if (!SECRET_NAME.test(name)) add(name, 'secret names use letters, digits, _, . and -');
      else if (typeof value === 'number')
        add(name, 'a secret must be text', `quote it ('…'): as a number, leading zeros and digits are lost`);
      else add(name, 'a secret must be text');
    }
  }
  problems.push(...permissionProblems(file));
  return { secrets: new Secrets(values, file), problems, rejected };
}

function permissionProblems(file: string): ConfigProblem[] {
  if (process.platform === 'win32') return [];
  const mode = statSync(file).mode;
  if ((mode & 0o077) === 0) return [];
  return [
    {
      file,
      path: '',
      message: `the secrets file is readable by group or others (mode ${(mode & 0o777).toString(8)})`,
      hint: `chmod 600 ${file} and make the service user its owner`,
      code: 'CONFIG_INVALID',
      severity: 'warning',
    },
  ];
}
