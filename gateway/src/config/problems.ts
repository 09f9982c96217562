/**
 * Config problems: located like every other file problem, plus the error code the problem
 * stands for and whether it makes the file invalid (error) or only deserves attention (warning).
 */
import type { z } from 'zod';
import { LantianError, type ErrorCode } from '../core/errors.js';
import { formatPath, formatProblem, type Problem } from '../core/yaml.js';
import { lineSettingsHint } from './line-settings.js';
import { closest } from './suggest.js';

export type Severity = 'error' | 'warning';

export interface ConfigProblem extends Problem {
  code: ErrorCode;
  severity: Severity;
}

/** `FILE:PATH: message (line N; hint: …)`, warnings marked as such. */
export function formatConfigProblem(p: ConfigProblem): string {
  return formatProblem(p.severity === 'warning' ? { ...p, message: `warning: ${p.message}` } : p);
}

export const errorsOf = (problems: readonly ConfigProblem[]): ConfigProblem[] =>
  problems.filter((p) => p.severity === 'error');

/**
 * The one error that stands for a list of problems: the shared code when every error has the
 * same one, CONFIG_INVALID otherwise. `context.problems` lists them all.
 */
export function configError(problems: readonly ConfigProblem[]): LantianError {
  const errors = errorsOf(problems);
  const codes = new Set(errors.map((p) => p.code));
  const code = codes.size === 1 ? [...codes][0]! : 'CONFIG_INVALID';
  return new LantianError(code, errors.map(formatConfigProblem).join('\n'), {
    context: { file: errors[0]?.file, problems: [...problems] },
  });
}

/** Where problems go: a located list with a YAML line lookup for the file being checked. */
export class ProblemList {
  readonly items: ConfigProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly lineOf: (path: readonly PropertyKey[]) => number | undefined,
    /** Added to every hint, e.g. when paths refer to a migrated copy of the file. */
    private readonly note?: string,
  ) {}

  add(
    path: readonly PropertyKey[],
    message: string,
    options: { hint?: string; code?: ErrorCode; severity?: Severity } = {},
  ): void {
    const hint = [options.hint, this.note].filter(Boolean).join('; ');
    this.items.push({
      file: this.file,
      path: formatPath(path),
      message,
      line: this.lineOf(path),
      ...(hint ? { hint } : {}),
      code: options.code ?? 'CONFIG_INVALID',
      severity: options.severity ?? 'error',
    });
  }

  /**
   * zod issues as problems: one per unknown key, with a hint from `place` (the nearest option
   * valid at that place, or how to write a line setting such as 8N1), nested messages for bad
   * map keys.
   */
  addZod(error: z.ZodError, place: KeyPlace): void {
    for (const issue of error.issues) {
      const path = issue.path;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          this.add([...path, key], 'unknown key', { hint: unknownKeyHint(key, path, place) });
        }
      } else if (issue.code === 'invalid_key') {
        this.add(path, `bad key: ${issue.issues.map((i) => i.message).join('; ')}`);
      } else {
        this.add(path, issue.message);
      }
    }
  }
}

/** What the loader knows about a place in the file, for hints on unknown keys. */
export interface KeyPlace {
  /** Option names valid directly under this path. */
  keysAt(path: readonly PropertyKey[]): readonly string[];
  /** The raw value at this path. */
  valueAt(path: readonly PropertyKey[]): unknown;
}

function unknownKeyHint(key: string, path: readonly PropertyKey[], place: KeyPlace): string {
  const value = place.valueAt([...path, key]);
  const line = typeof value === 'string' ? lineSettingsHint(value) : undefined;
  if (line !== undefined) return line;
  const known = place.keysAt(path);
  if (known.includes(key)) {
    // An option of another variant here (maxInFlight on a serial bus): say so, not "did you mean" itself.
    const parent = place.valueAt(path) as { kind?: unknown } | undefined;
    const kind = typeof parent?.kind === 'string' ? parent.kind : undefined;
    return kind === undefined ? `${key} does not apply here` : `${key} is not an option of kind ${kind}`;
  }
  const near = closest(key, known);
  if (near !== undefined) return `did you mean ${near}?`;
  if (known.length > 0 && known.length <= 8) return `keys here: ${known.join(', ')}`;
  return 'remove it or check its spelling';
}

/** zod's per-parse error map: plainer words for the commonest mistakes. */
export function zodMessages(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'required';
    if (issue.expected === 'int') return `${describe(issue.input)} is not a whole number`;
    return `expected ${issue.expected}, got ${describe(issue.input)}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'number') {
    return `${describe(issue.input)} is below the minimum ${String(issue.minimum)}`;
  }
  if (issue.code === 'too_big' && issue.origin === 'number') {
    return `${describe(issue.input)} is above the maximum ${String(issue.maximum)}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'array')
    return `needs at least ${String(issue.minimum)} entries`;
  return undefined;
}

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/** The problems a file-level LantianError stands for (not found, not YAML), located in that file. */
export function fileProblems(e: LantianError, file: string, hint?: string): ConfigProblem[] {
  const listed = e.context.problems as Problem[] | undefined;
  if (listed) return listed.map((p) => ({ ...p, code: e.code, severity: 'error' }));
  const errno = (e.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = `cannot read the file (${ERRNO[errno] ?? (errno || 'unknown reason')})`;
  return [{ file, path: '', message, ...(hint ? { hint } : {}), code: e.code, severity: 'error' }];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `text "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v;
}
