/**
 * `lantian poll --config FILE [--once | --watch]`: polls the devices of a site config through the
 * real acquisition engine and prints, per device, every point's decoded value with its unit,
 * flag and quality. `--once` (the default) polls each device once and exits; `--watch` keeps
 * polling at each device's period and refreshes the tables until interrupted.
 * Exit 0 when it polled (even if devices did not answer: their readings say B), 2 when the
 * config is invalid.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import type { ReadingDraft } from '../../core/reading.js';
import { inspectSiteConfig, type LoadedConfig } from '../../config/index.js';
import { Acquisition, type AcquisitionHealth } from '../../acquisition/engine.js';
import { acquisitionOptions } from '../../acquisition/from-config.js';
import type { DeviceHealth } from '../../acquisition/health.js';
import {
  EXIT,
  loadOptions,
  printProblems,
  processIo,
  PROFILES_OPTION,
  type ConfigFileOptions,
  type Io,
} from '../output.js';

export interface PollOptions extends ConfigFileOptions {
  config: string;
  once?: boolean;
  watch?: boolean;
  device?: string[];
  /** Table refresh interval for --watch, ms (text from the command line). */
  refresh?: string;
  logLevel?: string;
}

export function registerPoll(program: Command): void {
  program
    .command('poll')
    .description('poll the devices of a site config and print their decoded values, flags and units')
    .requiredOption('--config <file>', 'site config (YAML)')
    .option('--once', 'poll every device once and exit (the default)')
    .option('--watch', 'keep polling at each device period and refresh the tables (Ctrl-C stops)')
    .option('--device <id...>', 'only these devices')
    .option('--refresh <ms>', 'with --watch: table refresh interval in ms', '1000')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option('--log-level <level>', 'log to stderr at this level (error, warn, info, debug)', 'error')
    .action(async (options: PollOptions) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        process.exitCode = await poll(options, processIo, stop.signal);
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    });
}

export async function poll(options: PollOptions, io: Io, stop: AbortSignal): Promise<number> {
  const { problems, loaded } = inspectSiteConfig(options.config, loadOptions(options));
  printProblems(
    io,
    options.config,
    problems.filter((p) => p.severity === 'error'),
  );
  if (!loaded) return EXIT.invalid;
  const unknown = (options.device ?? []).filter((d) => !(d in loaded.config.devices));
  if (unknown.length > 0) {
    io.err(`${options.config}: no device ${unknown.map((d) => `"${d}"`).join(', ')} in this config`);
    return EXIT.invalid;
  }
  const acqOptions = acquisitionOptions(loaded.config, loaded.profiles, { devices: options.device });
  const latest = new Map<string, ReadingDraft[]>();
  const logger = createLogger({ level: options.logLevel ?? 'error', name: 'lantian-poll' }, process.stderr);
  const engine = new Acquisition(acqOptions, {
    logger,
    onReadings: (drafts) => {
      const device = drafts[0]?.device;
      if (device) latest.set(device, drafts);
    },
  });
  try {
    if (!options.watch) {
      for (const [device, drafts] of await engine.pollOnce()) latest.set(device, drafts);
      for (const line of render(loaded, latest, engine.health(), false)) io.out(line);
      return EXIT.ok;
    }
    engine.start();
    const refreshMs = Math.max(100, Number(options.refresh ?? 1000) || 1000);
    while (!stop.aborted) {
      await systemClock.sleep(refreshMs, stop).catch(() => undefined);
      io.out(CLEAR);
      for (const line of render(loaded, latest, engine.health(), true)) io.out(line);
    }
    return EXIT.ok;
  } finally {
    await engine.stop();
  }
}

/** Clears the screen and homes the cursor on a terminal; a plain separator otherwise. */
const CLEAR = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';

function cell(value: ReadingDraft['value']): string {
  return value === null ? '-' : String(value);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

function healthLine(h: DeviceHealth): string {
  const latency = h.latencyMs ? `, latency p50 ${h.latencyMs.p50} ms p95 ${h.latencyMs.p95} ms` : '';
  return `  state ${h.state}: ${h.polls} polls (${h.failedPolls} failed, ${h.skippedPolls} skipped, ${h.overruns} overrun), ${h.timeouts} timeouts, ${h.crcErrors} CRC, ${h.exceptions} exceptions, ${h.linkErrors} link errors${latency}`;
}

export function render(
  loaded: LoadedConfig,
  latest: Map<string, ReadingDraft[]>,
  health: AcquisitionHealth,
  withHealth: boolean,
): string[] {
  const out: string[] = [];
  for (const h of health.devices) {
    const device = loaded.config.devices[h.device]!;
    const profile = loaded.profiles.get(device.profile);
    const drafts = latest.get(h.device) ?? [];
    const order = new Map(profile.points.map((p, i) => [p.key, i]));
    const units = new Map(profile.points.map((p) => [p.key, p.unit]));
    const when = drafts[0] ? new Date(drafts[0].ts).toISOString() : 'not polled yet';
    const bad = drafts.filter((d) => d.flag === 'B').length;
    const why = bad > 0 && h.lastErrorCode ? ` (last error ${h.lastErrorCode})` : '';
    out.push(
      `${h.device} (${profile.id}, bus ${h.bus}, unit ${h.unitId}) at ${when}: ${drafts.length} points, ${bad} B${why}`,
    );
    if (withHealth) out.push(healthLine(h));
    const rows = [...drafts]
      .sort((a, b) => (order.get(a.point) ?? 0) - (order.get(b.point) ?? 0))
      .map((d) => [d.point, cell(d.value), units.get(d.point) ?? '', d.flag, (d.quality ?? []).join(',')]);
    out.push(...table([['point', 'value', 'unit', 'flag', 'quality'], ...rows]), '');
  }
  return out;
}
