/**
 * `lantian doctor [--config FILE]`: what an installer checks first on a gateway that misbehaves,
 * one line each with ok / warn / fail: versions, serial ports and whether this user may open
 * them, free disk where the log lives, clock synchronisation, and (with a config) the config
 * itself, each bus's serial port and the broker login. Exit 1 when anything fails.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { inspectSiteConfig, type LoadedConfig } from '../../config/index.js';
import { checkBroker } from '../broker-check.js';
import { EXIT, loadOptions, processIo, PROFILES_OPTION, type ConfigFileOptions, type Io } from '../output.js';
import { packageVersion } from '../version.js';

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Finding {
  verdict: Verdict;
  what: string;
  detail: string;
}

interface DoctorOptions extends ConfigFileOptions {
  config?: string;
  json?: boolean;
}

/** Free space below which the log's quota may not fit, MiB. */
const LOW_DISK_MB = 512;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check versions, serial ports and permissions, disk, clock sync and the broker')
    .option('--config <file>', 'site config: also check it, its buses, its disk and its broker')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option('--json', 'print the findings as JSON')
    .action(async (o: DoctorOptions) => {
      process.exitCode = await doctor(o, processIo);
    });
}

function serialPorts(): string[] {
  const ports = existsSync('/dev/serial/by-id')
    ? readdirSync('/dev/serial/by-id').map((f) => join('/dev/serial/by-id', f))
    : [];
  if (existsSync('/dev'))
    ports.push(
      ...readdirSync('/dev')
        .filter((f) => /^tty(USB|ACM|AMA|S0)\d*$/.test(f))
        .map((f) => `/dev/${f}`),
    );
  return ports;
}

export function portFinding(port: string): Finding {
  if (!existsSync(port))
    return { verdict: 'fail', what: `serial ${port}`, detail: 'does not exist (adapter plugged in?)' };
  try {
    accessSync(port, constants.R_OK | constants.W_OK);
    return { verdict: 'ok', what: `serial ${port}`, detail: 'readable and writable' };
  } catch {
    return {
      verdict: 'fail',
      what: `serial ${port}`,
      detail: 'no permission: add the user to the dialout group',
    };
  }
}

export function diskFinding(dir: string): Finding {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const s = statfsSync(at);
  const freeMb = Math.floor((Number(s.bavail) * Number(s.bsize)) / 1048576);
  return {
    verdict: freeMb < LOW_DISK_MB ? 'warn' : 'ok',
    what: `disk ${at}`,
    detail: `${freeMb} MiB free${freeMb < LOW_DISK_MB ? ` (below ${LOW_DISK_MB} MiB)` : ''}`,
  };
}

export function clockFinding(): Finding {
  try {
    const synced = execFileSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], {
      encoding: 'utf8',
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return synced === 'yes'
      ? { verdict: 'ok', what: 'clock', detail: 'synchronised (timedatectl)' }
      : {
          verdict: 'warn',
          what: 'clock',
          detail: 'not synchronised: readings get flagged; check chrony or timesyncd',
        };
  } catch {
    return { verdict: 'warn', what: 'clock', detail: 'cannot tell (no timedatectl or no systemd)' };
  }
}

async function configFindings(o: DoctorOptions & { config: string }): Promise<Finding[]> {
  const { problems, loaded } = inspectSiteConfig(o.config, loadOptions(o));
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (!loaded)
    return [
      {
        verdict: 'fail',
        what: `config ${o.config}`,
        detail: `${errors} problem(s): run lantian check-config`,
      },
    ];
  const out: Finding[] = [
    {
      verdict: problems.length > 0 ? 'warn' : 'ok',
      what: `config ${o.config}`,
      detail: `${problems.length} warning(s)`,
    },
  ];
  for (const bus of Object.values(loaded.config.buses))
    if (bus.kind === 'serial') out.push(portFinding(bus.port));
  out.push(diskFinding(dirname(loaded.config.storage.path)));
  out.push(await brokerFinding(loaded));
  return out;
}

async function brokerFinding(loaded: LoadedConfig): Promise<Finding> {
  const b = await checkBroker(loaded);
  if (!b) return { verdict: 'warn', what: 'broker', detail: 'no MQTT uplink configured' };
  return b.ok
    ? { verdict: 'ok', what: `broker ${b.url}`, detail: `logged in (${b.ms} ms)` }
    : { verdict: 'fail', what: `broker ${b.url}`, detail: b.error };
}

export async function doctor(o: DoctorOptions, io: Io): Promise<number> {
  const findings: Finding[] = [
    { verdict: 'ok', what: 'lantian', detail: packageVersion() },
    {
      verdict: Number(process.versions.node.split('.')[0]) >= 20 ? 'ok' : 'fail',
      what: 'node',
      detail: `${process.versions.node} (20 or newer needed)`,
    },
  ];
  const ports = serialPorts();
  if (ports.length === 0) findings.push({ verdict: 'warn', what: 'serial ports', detail: 'none found' });
  else findings.push(...ports.map(portFinding));
  findings.push(clockFinding());
  if (o.config) findings.push(...(await configFindings({ ...o, config: o.config })));
  else findings.push(diskFinding('/var/lib/lantian'));
  if (o.json) io.out(JSON.stringify(findings, null, 2));
  else for (const f of findings) io.out(`${f.verdict.padEnd(4)}  ${f.what}: ${f.detail}`);
  return findings.some((f) => f.verdict === 'fail') ? EXIT.unexpected : EXIT.ok;
}
