/**
 * `lantian-sim`: run a scenario, or steer a running one through its control interface.
 *
 *   lantian-sim run SCENARIO.yaml [--control-port N] [--profiles DIR]... [--write-site-config FILE]
 *                  [--hj212 PORT --hj212-mn MN --hj212-password PW [--hj212-edition 2017|2025] …]
 *   lantian-sim hj212 --port PORT --mn MN --password PW [--edition 2017|2025] …
 *   lantian-sim inject --device ID | --bus NAME --kind KIND [fault options]
 *   lantian-sim clear [ID] | faults | stats [BUS] | set DEVICE POINT VALUE
 *   lantian-sim state DEVICE STATE on|off [--duration-ms N] | power-cycle DEVICE [--off-ms N]
 *
 * Steering commands find the simulator with --control URL or LANTIAN_SIM_CONTROL. Exit codes:
 * 0 success, 2 the input (scenario, command) is invalid, 1 anything unexpected.
 */
import { Argument, Command, Option } from 'commander';
import { pino } from 'pino';
import { createLogger, isLantianError } from '../../gateway/src/core/index.js';
import { writeFileSync } from 'node:fs';
import { loadScenario } from './scenario/load.js';
import { siteConfigFor } from './scenario/site-config.js';
import { startSimulator } from './simulator.js';
import { FAULT_KINDS } from './faults.js';
import {
  addPlatformRunOptions,
  PlatformOptionError,
  registerHj212Platform,
  runPlatformOptions,
  startPlatformFromCli,
  type RunPlatformOptions,
} from './hj212/control.js';

const EXIT = { ok: 0, unexpected: 1, invalid: 2 } as const;

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

interface RunOptions extends RunPlatformOptions {
  controlPort: number;
  profiles?: string[];
  logLevel: string;
  writeSiteConfig?: string;
}

async function run(file: string, o: RunOptions) {
  const platform = runPlatformOptions(o);
  // Logs go to stderr so that stdout carries only the lines scripts wait for.
  const logger = createLogger({ level: o.logLevel, name: 'lantian-sim' }, pino.destination(2));
  const sim = await startSimulator(file, {
    controlPort: o.controlPort,
    logger,
    ...(o.profiles ? { profilesDir: o.profiles } : {}),
  });
  for (const b of sim.buses) process.stdout.write(`bus ${b.name} listening on ${b.address}\n`);
  if (o.writeSiteConfig !== undefined) {
    // The scenario passed every check to get here; read once more for the config's contents.
    writeFileSync(o.writeSiteConfig, siteConfigFor(loadScenario(file), sim.buses));
    process.stdout.write(`site config written to ${o.writeSiteConfig}\n`);
  }
  let stopPlatform: (() => Promise<void>) | undefined;
  try {
    if (platform) stopPlatform = await startPlatformFromCli(platform, 'hj212 ');
  } catch (e) {
    await sim.stop();
    throw e;
  }
  // Last: scripts wait for this line to know that everything listens.
  process.stdout.write(`control listening on ${sim.controlUrl}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void Promise.allSettled([sim.stop(), stopPlatform?.()]).then(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** One call to the control interface; prints the JSON answer, fails on an error answer. */
async function call(
  control: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<void> {
  if (!control) throw new CliInputError('give --control URL or set LANTIAN_SIM_CONTROL');
  const res = await fetch(new URL(path, control), {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) {
    let line = text;
    try {
      const e = JSON.parse(text) as { code?: string; message?: string };
      line = `${e.code}: ${e.message}`;
    } catch {
      // not JSON: print it as it came
    }
    process.stderr.write(`lantian-sim: ${line}\n`);
    process.exitCode = EXIT.invalid;
    return;
  }
  process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
}

class CliInputError extends Error {}

function buildProgram(): Command {
  const program = new Command('lantian-sim')
    .description('Lantian hardware simulator: Modbus devices with serial timing, faults and UART sensors.')
    .showHelpAfterError();
  const runCommand = program
    .command('run')
    .description('start a scenario; prints "bus <name> listening on <address>" per bus')
    .argument('<scenario>', 'scenario YAML file')
    .option(
      '--control-port <port>',
      'port of the HTTP control interface on 127.0.0.1 (0: any free port)',
      num,
      0,
    )
    .option('--profiles <dir...>', 'profile directories instead of device-profiles/')
    .option('--log-level <level>', 'pino log level on stderr', 'warn')
    .option(
      '--write-site-config <file>',
      'write a Lantian site config for this scenario (its device ids, where its buses listen) to FILE',
    );
  addPlatformRunOptions(runCommand).action(run);
  const control = (c: Command) =>
    c.addOption(new Option('--control <url>', 'control interface URL').env('LANTIAN_SIM_CONTROL'));
  control(program.command('inject').description('start a fault'))
    .addOption(new Option('--kind <kind>', 'fault kind').choices(FAULT_KINDS).makeOptionMandatory())
    .option('--device <id>', 'device the fault hits')
    .option('--bus <name>', 'bus the fault hits')
    .option('--delay-ms <ms>', 'late-answer: extra delay', num)
    .option('--exception-code <code>', 'exception: code to answer', num)
    .option('--unit-id <id>', 'wrong-unit-id: unit id in the reply', num)
    .option('--keep-bytes <n>', 'truncated: bytes sent', num)
    .option('--garbage-bytes <n>', 'garbage: noise bytes', num)
    .addOption(
      new Option('--garbage-mode <mode>', 'garbage: before or instead of the reply').choices([
        'prefix',
        'replace',
      ]),
    )
    .option('--off-ms <ms>', 'power-cycle, drop: how long off', num)
    .option('--duration-ms <ms>', 'how long the fault lasts', num)
    .option('--count <n>', 'transactions the fault hits', num)
    .option('--probability <p>', 'share of transactions hit (0..1)', num)
    .action((o: Record<string, unknown> & { control?: string }) => {
      const { control: url, ...spec } = o;
      return call(url, 'POST', '/faults', spec);
    });
  control(program.command('clear').description('end one fault, or all').argument('[id]')).action(
    (id: string | undefined, o: { control?: string }) =>
      call(o.control, 'DELETE', id === undefined ? '/faults' : `/faults/${encodeURIComponent(id)}`),
  );
  control(program.command('faults').description('list active faults')).action((o: { control?: string }) =>
    call(o.control, 'GET', '/faults'),
  );
  control(program.command('stats').description('bus statistics').argument('[bus]')).action(
    (bus: string | undefined, o: { control?: string }) =>
      call(o.control, 'GET', bus === undefined ? '/stats' : `/stats/${encodeURIComponent(bus)}`),
  );
  control(
    program
      .command('set')
      .description('hold a point at a value ("release": back to its behaviour)')
      .argument('<device>')
      .argument('<point>')
      .argument('<value>'),
  ).action((device: string, point: string, value: string, o: { control?: string }) => {
    const v = value === 'release' ? null : Number.isFinite(Number(value)) ? Number(value) : value;
    return call(
      o.control,
      'PUT',
      `/devices/${encodeURIComponent(device)}/points/${encodeURIComponent(point)}`,
      {
        value: v,
      },
    );
  });
  control(
    program
      .command('state')
      .description('force calibration, maintenance, fault or stopped on or off')
      .argument('<device>')
      .argument('<state>')
      .addArgument(new Argument('<on|off>').choices(['on', 'off']))
      .option('--duration-ms <ms>', 'how long the state lasts', num),
  ).action((device: string, state: string, onOff: string, o: { control?: string; durationMs?: number }) =>
    call(
      o.control,
      onOff === 'on' ? 'PUT' : 'DELETE',
      `/devices/${encodeURIComponent(device)}/states/${encodeURIComponent(state)}`,
      onOff === 'on' && o.durationMs !== undefined ? { durationMs: o.durationMs } : undefined,
    ),
  );
  control(
    program
      .command('power-cycle')
      .description('switch a device off, then let it boot')
      .argument('<device>')
      .option('--off-ms <ms>', 'how long it stays off', num),
  ).action((device: string, o: { control?: string; offMs?: number }) =>
    call(
      o.control,
      'POST',
      `/devices/${encodeURIComponent(device)}/power-cycle`,
      o.offMs === undefined ? {} : { offMs: o.offMs },
    ),
  );
  registerHj212Platform(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  const invalid = isLantianError(e) || e instanceof CliInputError || e instanceof PlatformOptionError;
  const text = isLantianError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`lantian-sim: ${text}\n`);
  process.exitCode = invalid ? EXIT.invalid : EXIT.unexpected;
}
