/**
 * What the files on disk say about each HJ 212 platform, for `check-config --plan`: its session
 * state (what the platform set, registration) from `<storage.path>.hj212-<platform>.json`, its
 * cursor in the log (read-only: the log is never written) and the last answer it sent. While the
 * gateway runs it holds the log's lock; the MQTT health message (`hj212`) then says the same live.
 */
import { existsSync } from 'node:fs';
import type { LoadedConfig } from '../config/index.js';
import { isLantianError } from '../core/errors.js';
import { peekLog, type LogPeek } from '../store/index.js';
import { hj212SessionOptions } from '../uplink/hj212/from-config.js';
import { PlatformState } from '../uplink/hj212/platform-state.js';
import { configuredValues, type Hj212SessionOptions } from '../uplink/hj212/session.js';
import { plural } from './output.js';

const INDENT = '    ';
const time = (ms: number) => new Date(ms).toISOString();
const why = (e: unknown) => (isLantianError(e) ? `${e.code}: ${e.message}` : String(e));

/** Lines per platform name. Reads the log once for all platforms. */
export function hj212Runtime(loaded: LoadedConfig): (platform: string) => string[] {
  const path = loaded.config.storage.path;
  let log: LogPeek | undefined | Error;
  try {
    log = peekLog(path);
  } catch (e) {
    log = new Error(why(e));
  }
  const options = new Map(hj212SessionOptions(loaded).map((o) => [o.name, o]));
  return (name) => {
    const o = options.get(name);
    if (!o) return [];
    return [...stateLines(o), `${INDENT}cursor: ${cursorText(name, path, log)}`];
  };
}

function stateLines(o: Hj212SessionOptions): string[] {
  const file = o.stateFile!;
  if (!existsSync(file))
    return [
      `${INDENT}state: no state file yet (${file}): nothing set by the platform`,
      `${INDENT}last answer: none recorded`,
    ];
  let state: PlatformState;
  try {
    state = new PlatformState(file, configuredValues(o));
  } catch (e) {
    return [`${INDENT}state: cannot read ${file}: ${why(e)}`];
  }
  const set = state.overrides();
  const { lastAnswer, registeredAt } = state.history;
  const parts = [`MN ${set.mn ?? o.mn}${set.mn === undefined ? '' : ' (set by the platform)'}`];
  if (o.edition === 2025 && o.registration)
    parts.push(registeredAt === undefined ? 'not registered yet' : `registered ${time(registeredAt)}`);
  if (o.edition === 2025)
    parts.push(
      o.sm4Key || set.sm4Key ? `SM4 key ${set.sm4Key ? 'set by the platform' : 'configured'}` : 'no SM4 key',
    );
  if (set.password !== undefined) parts.push('password set by the platform');
  if (set.timeoutMs !== undefined || set.retries !== undefined)
    parts.push(
      `OverTime ${(set.timeoutMs ?? o.timeoutMs) / 1000} s, ReCount ${set.retries ?? o.retries} set by the platform`,
    );
  if (set.rtdIntervalS !== undefined) parts.push(`RtdInterval ${set.rtdIntervalS} s set by the platform`);
  if (set.minIntervalMin !== undefined)
    parts.push(`MinInterval ${set.minIntervalMin} min set by the platform`);
  return [
    `${INDENT}state (${file}): ${parts.join(', ')}`,
    `${INDENT}last answer: ${
      lastAnswer
        ? `${lastAnswer.cn} QN ${lastAnswer.qn} at ${time(lastAnswer.ts)}: ${lastAnswer.result}`
        : 'none recorded'
    }`,
  ];
}

function cursorText(name: string, path: string, log: LogPeek | undefined | Error): string {
  if (log === undefined) return `no log yet (${path})`;
  if (log instanceof Error) return `cannot read the log: ${log.message}`;
  const c = log.cursors.find((x) => x.uplink === `hj212:${name}`);
  if (!c) return `nothing delivered yet: ${plural(log.lastSeq, 'record')} in the log pending`;
  const doneAbove = c.ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  const pending = Math.max(0, log.lastSeq - c.prefix - doneAbove);
  return (
    `delivered through seq ${c.prefix}${doneAbove > 0 ? ` and ${doneAbove} above it` : ''}, ` +
    `${pending} of the log's ${log.lastSeq} seqs pending`
  );
}
