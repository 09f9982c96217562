/**
 * `lantian commission --config FILE [--duration 3m] [--out DIR]`: runs the site for the given
 * time, checks each device, the uplinks, clock synchronisation and disk, prints one line per
 * check with pass / warn / fail, and writes report.html and report.json for the handover.
 * Exit 0 when nothing fails (warnings included), 1 when a check fails, 2 on invalid input.
 * Stop the service first: the run opens the site's log and its uplinks itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { buildReport, commissionRun, parseDuration, renderHtml } from '../../commission/index.js';
import { inspectSiteConfig } from '../../config/index.js';
import { isLantianError } from '../../core/errors.js';
import {
  EXIT,
  loadOptions,
  printProblems,
  processIo,
  PROFILES_OPTION,
  type ConfigFileOptions,
  type Io,
} from '../output.js';
import { packageVersion } from '../version.js';
import { clockFinding, diskFinding } from './doctor.js';

interface CommissionOptions extends ConfigFileOptions {
  config: string;
  duration: string;
  out?: string;
  progress: boolean;
}

export function registerCommission(program: Command): void {
  program
    .command('commission')
    .description(
      'run the site for a while, check devices, uplinks, clock and disk, write report.html and report.json',
    )
    .requiredOption('--config <file>', 'site config (YAML)')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option('--duration <time>', 'how long the site runs: 90s, 3m, 1m30s (1 s to 24 h)', '3m')
    .option(
      '--out <dir>',
      'folder for report.html and report.json (default: commissioning-<gateway>-<UTC time>)',
    )
    .option('--no-progress', 'no progress bar')
    .action(async (o: CommissionOptions) => {
      process.exitCode = await commission(o, processIo);
    });
}

const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '');

export async function commission(o: CommissionOptions, io: Io): Promise<number> {
  let durationMs: number;
  try {
    durationMs = parseDuration(o.duration);
  } catch (e) {
    io.err(`lantian commission: ${isLantianError(e) ? `${e.code}: ${e.message}` : String(e)}`);
    return EXIT.invalid;
  }
  const { problems, loaded } = inspectSiteConfig(o.config, loadOptions(o));
  printProblems(io, o.config, problems);
  if (!loaded) return EXIT.invalid;
  const { config } = loaded;
  const out = o.out ?? `commissioning-${config.gateway.id}-${stamp(Date.now())}Z`;
  const devices = Object.values(config.devices).filter((d) => d.enabled).length;
  io.err(
    `commissioning ${config.site.id} / ${config.gateway.id}: ${devices} device(s) for ${durationMs / 1000} s; Ctrl-C ends the run early`,
  );
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const bar =
    o.progress && process.stderr.isTTY
      ? new SingleBar({ format: ' {bar} {value}/{total} s | ETA {eta_formatted}', stream: process.stderr })
      : undefined;
  bar?.start(Math.round(durationMs / 1000), 0);
  let facts;
  try {
    facts = await commissionRun(loaded, {
      durationMs,
      signal: abort.signal,
      onProgress: (ms) => bar?.update(Math.round(ms / 1000)),
    });
  } finally {
    bar?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const report = buildReport({
    loaded,
    configFile: o.config,
    lantianVersion: packageVersion(),
    facts,
    clock: clockFinding(),
    disk: diskFinding(dirname(config.storage.path)),
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'report.html'), renderHtml(report));
  for (const c of report.checks) io.out(`${c.verdict.padEnd(4)}  ${c.subject} ${c.check}: ${c.detail}`);
  const { pass, warn, fail } = report.counts;
  io.out(`${report.verdict.toUpperCase()}: ${pass} pass, ${warn} warn, ${fail} fail`);
  io.err(`wrote ${join(out, 'report.html')} and ${join(out, 'report.json')}`);
  return report.verdict === 'fail' ? EXIT.unexpected : EXIT.ok;
}
