/**
 * `lantian`: the gateway's command line. Each command lives in commands/<name>.ts and is
 * registered here by one line. Exit codes: 0 success, 2 the input (a config) is invalid,
 * 1 anything unexpected.
 */
import { Command } from 'commander';
import { isLantianError } from '../core/errors.js';
import { registerAggregate } from './commands/aggregate.js';
import { registerCheckConfig } from './commands/check-config.js';
import { registerCommission } from './commands/commission.js';
import { registerDoctor } from './commands/doctor.js';
import { registerHj212 } from './commands/hj212.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerLog } from './commands/log.js';
import { registerMigrateConfig } from './commands/migrate-config.js';
import { registerPoll } from './commands/poll.js';
import { registerProfiles } from './commands/profiles.js';
import { registerReceive } from './commands/receive.js';
import { registerRun } from './commands/run.js';
import { registerScan } from './commands/scan.js';
import { registerVerify } from './commands/verify.js';
import { EXIT } from './output.js';
import { packageVersion } from './version.js';

function buildProgram(): Command {
  const program = new Command('lantian')
    .description('Lantian edge gateway: polls CEMS and dust monitors, logs every reading, forwards it.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();
  registerAggregate(program);
  registerCheckConfig(program);
  registerCommission(program);
  registerDoctor(program);
  registerHj212(program);
  registerInit(program);
  registerKeys(program);
  registerLog(program);
  registerMigrateConfig(program);
  registerPoll(program);
  registerProfiles(program);
  registerReceive(program);
  registerRun(program);
  registerScan(program);
  registerVerify(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
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
