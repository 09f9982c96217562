/**
 * `lantian`: the gateway's command line. Each command lives in commands/<name>.ts and is
 * registered here by one line. Exit codes: 0 success, 2 the input (a config) is invalid,
 * 1 anything unexpected.
 *
 * A command's module, and what it imports, is loaded only when that command runs: the daemon
 * (`run`) does not carry the installer's prompts, the scanner's progress bars or the
 * commissioning report (docs/footprint.md). Without a command name (help, `--version`, a typo)
 * every command is registered, so help and suggestions list them all as before.
 */
import { Command } from 'commander';
import { isLantianError } from '../core/errors.js';
import { EXIT } from './output.js';
import { packageVersion } from './version.js';

type Register = (program: Command) => void;

/** Command name → its registration, in the order help lists them. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  aggregate: async () => (await import('./commands/aggregate.js')).registerAggregate,
  'check-config': async () => (await import('./commands/check-config.js')).registerCheckConfig,
  commission: async () => (await import('./commands/commission.js')).registerCommission,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  hj212: async () => (await import('./commands/hj212.js')).registerHj212,
  init: async () => (await import('./commands/init.js')).registerInit,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  log: async () => (await import('./commands/log.js')).registerLog,
  'migrate-config': async () => (await import('./commands/migrate-config.js')).registerMigrateConfig,
  poll: async () => (await import('./commands/poll.js')).registerPoll,
  profiles: async () => (await import('./commands/profiles.js')).registerProfiles,
  receive: async () => (await import('./commands/receive.js')).registerReceive,
  run: async () => (await import('./commands/run.js')).registerRun,
  scan: async () => (await import('./commands/scan.js')).registerScan,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
};

/** The commands to register for these arguments: the one named first, or all of them. */
function commandsFor(args: readonly string[]): string[] {
  const named = args[0];
  return named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
}

async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('lantian')
    .description('Lantian edge gateway: polls CEMS and dust monitors, logs every reading, forwards it.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();
  const registers = await Promise.all(commandsFor(args).map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (e) {
  // Errors a command did not turn into an exit code: say what and where, never a bare stack.
  const text = isLantianError(e)
    ? `${e.code}: ${e.message}`
    : e instanceof Error
      ? (e.stack ?? e.message)
      : String(e);
  process.stderr.write(`lantian: ${text}\n`);
  process.exitCode = EXIT.unexpected;
}
