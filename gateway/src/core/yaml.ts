/**
 * YAML files with locations: profile and config loaders report every problem as
 * `file:line path: message`, so an installer can go straight to the line.
 */
import { readFileSync } from 'node:fs';
import {
  LineCounter,
  parseDocument,
  isCollection,
  isNode,
  isScalar,
  visit,
  type Document,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import { LantianError, type ErrorCode } from './errors.js';

export interface Problem {
  file: string;
  /** Path inside the file, e.g. `points.so2.type`; empty for the whole file. */
  path: string;
  message: string;
  line?: number;
  hint?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** `FILE:PATH: message (line N; hint: ...)`, the format every loader and `check-config` print. */
export function formatProblem(p: Problem): string {
  const extra = [p.line === undefined ? '' : `line ${p.line}`, p.hint ? `hint: ${p.hint}` : ''].filter(
    Boolean,
  );
  return `${p.file}:${p.path}: ${p.message}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

export interface YamlFile {
  file: string;
  text: string;
  data: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function parseYaml(file: string, text: string, yamlCode: ErrorCode): YamlFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((e) => syntaxProblem(file, doc, lineCounter, e));
    throw new LantianError(yamlCode, problems.map(formatProblem).join('\n'), { context: { file, problems } });
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { file, text, data: doc.toJS({ maxAliasCount: 1000 }) as unknown, lineOf };
}

/**
 * A syntax error where the mistake is. The parser notices an unclosed `[`, `{` or quote only
 * where the file or block ends, and an over-indented line as a problem of the line above; the
 * problem names the line that opened the bracket or quote, or the line that runs on.
 */
function syntaxProblem(file: string, doc: Document, lines: LineCounter, e: YAMLError): Problem {
  const message = e.message.split('\n')[0] ?? e.message;
  const at = (offset: number) => lines.linePos(offset).line;
  const seen = e.linePos?.[0]?.line ?? at(e.pos[0]);
  if (/end with a [\]}]|Missing closing/.test(message)) {
    let opened: number | undefined;
    visit(doc, (_key, node) => {
      const open = (isCollection(node) && node.flow) || (isScalar(node) && node.type?.startsWith('QUOTE'));
      const range = isNode(node) ? node.range : undefined;
      if (open && range && range[0] < e.pos[0] && e.pos[0] <= range[2])
        opened = Math.max(opened ?? 0, range[0]);
    });
    if (opened !== undefined && at(opened) !== seen) {
      return {
        file,
        path: '',
        message,
        line: at(opened),
        hint: `opened here and never closed (noticed at line ${seen})`,
      };
    }
  }
  if (e.code === 'MULTILINE_IMPLICIT_KEY' && at(e.pos[1]) > seen) {
    const next = at(e.pos[1]);
    return {
      file,
      path: '',
      message,
      line: next,
      hint: `line ${next} is indented further than line ${seen} and runs on from it: check its indentation`,
    };
  }
  return { file, path: '', message, line: seen };
}

export function readYamlFile(file: string, notFound: ErrorCode, yamlCode: ErrorCode): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new LantianError(notFound, `${file}: cannot read file (${(cause as Error).message})`, {
      cause,
      context: { file },
    });
  }
  return parseYaml(file, text, yamlCode);
}

/** Turns zod issues into located problems. */
export function zodProblems(
  y: Pick<YamlFile, 'file' | 'lineOf'>,
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): Problem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const problem: Problem = {
      file: y.file,
      path: formatPath(path),
      message: issue.message,
      line: y.lineOf(path),
    };
    if (issue.code === 'unrecognized_keys') problem.hint = 'remove the key or check its spelling';
    return problem;
  });
}

export function problemsError(code: ErrorCode, problems: Problem[]): LantianError {
  return new LantianError(code, problems.map(formatProblem).join('\n'), {
    context: { file: problems[0]?.file, problems },
  });
}
