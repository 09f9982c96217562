/**
 * `lantian aggregate --config FILE --from READINGS`: offline reprocessing for audits. Reads
 * readings as JSON lines (`-` for standard input) and writes the minute, hour and day aggregates
 * and the limit events the live gateway would have produced, one JSON object a line, to standard
 * output. Deterministic: the same input gives the same output. Exit 0 when done, 2 when the
 * config or a line of input is invalid (the line is named).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { inspectSiteConfig } from '../../config/index.js';
import { reprocess } from '../../processing/offline.js';
import { processingPlan } from '../../processing/plan.js';
import { EXIT, loadOptions, printProblems, processIo, type ConfigFileOptions, type Io } from '../output.js';

export interface AggregateOptions extends ConfigFileOptions {
  config: string;
  from: string;
}

export function registerAggregate(program: Command): void {
  program
    .command('aggregate')
    .description('reprocess readings (JSON lines) into minute, hour and day aggregates and limit events')
    .requiredOption('--config <file>', 'site config (YAML)')
    .requiredOption('--from <file>', 'readings as JSON lines (ts, device, point, value, flag); - for stdin')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', 'device-profile directory (default: the bundled device-profiles/)')
    .action(async (options: AggregateOptions) => {
      process.exitCode = await aggregate(options, processIo);
    });
}

export async function aggregate(options: AggregateOptions, io: Io): Promise<number> {
  const { problems, loaded } = inspectSiteConfig(options.config, loadOptions(options));
  const errors = problems.filter((p) => p.severity === 'error');
  printProblems(io, options.config, errors);
  if (!loaded || errors.length > 0) return EXIT.invalid;
  const input = options.from === '-' ? process.stdin : createReadStream(options.from, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    const plan = processingPlan(loaded.config, loaded.profiles);
    const s = await reprocess(plan, lines, (l) => io.out(l), options.from === '-' ? 'stdin' : options.from);
    io.err(
      `${s.readings} readings -> ${s.aggregates} aggregates, ${s.events} events (${s.late} late readings)`,
    );
    return EXIT.ok;
  } catch (e) {
    if (isLantianError(e, 'PROCESSING_INPUT_INVALID')) {
      io.err(e.message);
      return EXIT.invalid;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`${options.from}: no such file`);
      return EXIT.invalid;
    }
    throw e;
  } finally {
    lines.close();
  }
}
