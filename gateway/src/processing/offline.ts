/**
 * Offline reprocessing for audits: readings as JSON lines in (the fields of the MQTT `data`
 * contract: ts, device, point, value, flag; others such as seq and quality are allowed and
 * ignored), the aggregates and events the live path would have produced out, one JSON object a
 * line. The live path and this one run the same Processor; here time is the readings' own
 * timestamps, so the output depends on the input alone. At the end every open period is closed
 * and flagged by its completeness.
 */
import { isFlag } from '../core/flags.js';
import { LantianError } from '../core/errors.js';
import type { ReadingDraft } from '../core/reading.js';
import { Processor } from './engine.js';
import type { ProcessingPlan } from './plan.js';
import type { ProcessingOutput } from './types.js';

export interface ReprocessSummary {
  readings: number;
  aggregates: number;
  events: number;
  late: number;
}

/** One input line as a reading, or a PROCESSING_INPUT_INVALID error naming the line. */
export function parseReadingLine(line: string, where: string): ReadingDraft {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw invalid(where, `not JSON (${(e as Error).message})`, e);
  }
  const r = v as Partial<ReadingDraft> | null;
  if (r === null || typeof r !== 'object') throw invalid(where, 'not a JSON object');
  if (!Number.isSafeInteger(r.ts) || (r.ts as number) < 0)
    throw invalid(where, 'ts must be UTC milliseconds');
  if (typeof r.device !== 'string' || r.device === '' || typeof r.point !== 'string' || r.point === '') {
    throw invalid(where, 'device and point must be non-empty text');
  }
  if (!(r.value === null || typeof r.value === 'number' || typeof r.value === 'string')) {
    throw invalid(where, 'value must be a number, text or null');
  }
  if (!isFlag(r.flag)) throw invalid(where, 'flag must be an HJ 212 flag (N, F, M, S, D, C, T, B)');
  return { ts: r.ts as number, device: r.device, point: r.point, value: r.value, flag: r.flag };
}

function invalid(where: string, what: string, cause?: unknown): LantianError {
  return new LantianError('PROCESSING_INPUT_INVALID', `${where}: ${what}`, { cause, context: { where } });
}

/** Runs lines through a fresh Processor; `emit` receives each output line. */
export async function reprocess(
  plan: ProcessingPlan,
  lines: AsyncIterable<string> | Iterable<string>,
  emit: (line: string) => void,
  source = 'input',
): Promise<ReprocessSummary> {
  const p = new Processor(plan);
  const summary: ReprocessSummary = { readings: 0, aggregates: 0, events: 0, late: 0 };
  const write = (o: ProcessingOutput) => {
    for (const a of o.aggregates) emit(JSON.stringify({ type: 'aggregate', ...a }));
    for (const e of o.events) emit(JSON.stringify({ type: 'event', ...e }));
    summary.aggregates += o.aggregates.length;
    summary.events += o.events.length;
  };
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const r = parseReadingLine(line, `${source}:${n}`);
    summary.readings++;
    write(p.push([r], r.ts));
  }
  write(p.flush());
  summary.late = p.stats().late;
  return summary;
}
