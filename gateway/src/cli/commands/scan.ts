/**
 * `lantian scan (--serial PORT | --rtu-tcp HOST:PORT | --tcp HOST:PORT)`: finds the devices on
 * a line across baud rates, parities and unit ids, states its time budget before it starts,
 * shows a progress bar with an ETA, and prints each device with its candidate profiles, their
 * confidence and the evidence. `--write FILE` adds what it identified to a site config.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { withSiteProfiles } from '../../config/loader.js';
import { loadProfiles } from '../../profiles/loader.js';
import {
  parseList,
  planScan,
  runScan,
  type Parity,
  type ScanOptions,
  type ScanResult,
  type ScanTarget,
} from '../../scan/scan.js';
import { writeFound } from '../../scan/write.js';
import { EXIT, processIo, PROFILES_OPTION, type Io } from '../output.js';

interface ScanCliOptions {
  serial?: string;
  rtuTcp?: string;
  tcp?: string;
  baud: string;
  parity: string;
  units: string;
  timeout: string;
  gap: string;
  profiles?: string;
  write?: string;
  bus: string;
  minConfidence: string;
  json?: boolean;
  progress: boolean;
}

const hostPort = (text: string, defaultPort?: number): { host: string; port: number } => {
  const i = text.lastIndexOf(':');
  const host = i < 0 ? text : text.slice(0, i);
  const port = i < 0 ? defaultPort : Number(text.slice(i + 1));
  if (!host || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`"${text}" is not HOST:PORT`);
  return { host, port };
};

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description(
      'find the devices on a line: baud rates, parities and unit ids, identified by FC 43 and profile fingerprints',
    )
    .option('--serial <port>', 'serial port, e.g. /dev/ttyUSB0')
    .option('--rtu-tcp <host:port>', 'serial device server (RTU over TCP); its line settings are its own')
    .option('--tcp <host:port>', 'Modbus TCP device or gateway (port default 502)')
    .option('--baud <list>', 'serial: baud rates to try, comma-separated', '9600,19200,4800,38400,115200')
    .option('--parity <list>', 'serial: parities to try: none, even, odd', 'none,even')
    .option('--units <list>', 'unit ids to probe, e.g. 1-10,247', '1-247')
    .option('--timeout <ms>', 'reply timeout per presence probe', '200')
    .option('--gap <ms>', 'pause between requests (beyond the frame silence)', '20')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option('--write <file>', 'add the identified devices to this site config (created if missing)')
    .option('--bus <id>', 'bus id for --write', 'scanned')
    .option('--min-confidence <0-1>', 'lowest confidence --write accepts', '0.6')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (o: ScanCliOptions) => {
      process.exitCode = await scan(o, processIo);
    });
}

function target(o: ScanCliOptions): ScanTarget {
  const given = [o.serial, o.rtuTcp, o.tcp].filter((v) => v !== undefined);
  if (given.length !== 1) throw new Error('give exactly one of --serial, --rtu-tcp, --tcp');
  if (o.serial) return { kind: 'serial', port: o.serial };
  if (o.rtuTcp) return { kind: 'rtu-over-tcp', ...hostPort(o.rtuTcp) };
  return { kind: 'tcp', ...hostPort(o.tcp!, 502) };
}

async function scan(o: ScanCliOptions, io: Io): Promise<number> {
  let options: ScanOptions;
  try {
    const parities = o.parity.split(',').map((p) => p.trim());
    for (const p of parities)
      if (!['none', 'even', 'odd'].includes(p)) throw new Error(`--parity: "${p}" is none, even or odd`);
    options = {
      target: target(o),
      bauds: parseList(o.baud, 300, 921_600, '--baud'),
      parities: parities as Parity[],
      units: parseList(o.units, 0, 255, '--units'),
      timeoutMs: parseList(o.timeout, 10, 10_000, '--timeout')[0]!,
      gapMs: parseList(o.gap, 0, 10_000, '--gap')[0]!,
      connectTimeoutMs: 3000,
      maxCandidates: 3,
    };
  } catch (e) {
    io.err(`lantian scan: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.invalid;
  }
  const profiles = withSiteProfiles(loadProfiles(), o.profiles).profiles;
  const plan = planScan(options, profiles);
  const where =
    options.target.kind === 'serial' ? options.target.port : `${options.target.host}:${options.target.port}`;
  io.err(
    `scanning ${where}: ${plan.settings.length} line setting(s) × ${options.units.length} unit ids = ${plan.probes} probes; ` +
      `at most ${seconds(plan.budgetMs)}, plus up to ${seconds(plan.perDeviceMs)} to identify each device found`,
  );
  const bar =
    o.progress && process.stderr.isTTY
      ? new SingleBar({
          format:
            ' {bar} {percentage}% | {value}/{total} probes | {setting} unit {unit} | found {found} | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
        })
      : undefined;
  bar?.start(plan.probes, 0, { setting: '', unit: '', found: 0 });
  const result = await runScan(options, profiles, (p) =>
    bar?.update(p.done, {
      setting: p.line ? `${p.line.baud} ${p.line.parity}` : '',
      unit: p.unitId,
      found: p.found,
    }),
  );
  bar?.stop();
  if (o.json) io.out(JSON.stringify(result, null, 2));
  else printResult(io, result);
  if (o.write && result.found.length > 0) {
    const min = Number(o.minConfidence);
    for (const w of writeFound(o.write, options.target, result.found, o.bus, min)) {
      if (w.devices.length > 0) io.err(`${o.write}: bus ${w.bus} with ${w.devices.join(', ')}`);
      for (const f of w.left)
        io.err(`${o.write}: unit ${f.unitId} left out: no profile with confidence ≥ ${min}`);
    }
    io.err(`next: lantian check-config ${o.write}`);
  }
  return EXIT.ok;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

function printResult(io: Io, r: ScanResult): void {
  for (const u of r.unopened)
    io.err(`could not open ${u.line ? `${u.line.baud} ${u.line.parity}` : 'the line'}: ${u.error}`);
  const garbledAt = new Set(r.garbled.map((g) => (g.line ? `${g.line.baud} ${g.line.parity}` : '')));
  for (const g of garbledAt)
    io.err(`garbled answers at ${g || 'this address'}: a device may be there at other line settings`);
  if (r.found.length === 0) io.out('no device answered');
  for (const f of r.found) {
    const line = f.line ? `${f.line.baud} ${f.line.parity}, ` : '';
    io.out(`unit ${f.unitId} (${line}answered in ${f.latencyMs} ms; ${f.notes.join('; ')})`);
    if (f.candidates.length === 0) io.out('  no profile matches');
    for (const c of f.candidates) {
      io.out(`  ${c.profile}  confidence ${c.confidence.toFixed(2)}`);
      for (const e of c.evidence) io.out(`    ${e}`);
    }
  }
  const skipped = r.skippedProbes > 0 ? `, ${r.skippedProbes} probes left out at the budget` : '';
  io.err(
    `scan done in ${seconds(r.elapsedMs)} (budget ${seconds(r.plan.budgetMs)}), ${r.requests} requests${skipped}`,
  );
}
