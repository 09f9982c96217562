/**
 * `lantian run --config FILE`: the gateway daemon. Polls the site's devices, commits every
 * reading to the log and forwards it; runs until SIGINT or SIGTERM, then stops in order
 * (polling, uplinks, log) and exits 0. An invalid config exits 2 before anything starts.
 */
import type { Command } from 'commander';
import { inspectSiteConfig } from '../../config/index.js';
import { createLogger } from '../../core/logger.js';
import { GatewayHost } from '../../uplink/commands/host.js';
import {
  EXIT,
  loadOptions,
  printProblems,
  processIo,
  PROFILES_OPTION,
  type ConfigFileOptions,
} from '../output.js';

interface RunOptions extends ConfigFileOptions {
  config: string;
  logLevel?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the gateway: poll the devices, log every reading, forward it to the uplinks')
    .requiredOption('--config <file>', 'site config (YAML)')
    .option('--secrets <file>', 'secrets file (default: secretsFile in the config)')
    .option('--profiles <dir>', PROFILES_OPTION)
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error', 'info')
    .action(async (options: RunOptions) => {
      process.exitCode = await run(options);
    });
}

async function run(options: RunOptions): Promise<number> {
  const { problems, loaded } = inspectSiteConfig(options.config, loadOptions(options));
  printProblems(processIo, options.config, problems);
  if (!loaded) return EXIT.invalid;
  const logger = createLogger({
    level: options.logLevel ?? 'info',
    name: `lantian:${loaded.config.gateway.id}`,
  });
  // The host restarts the gateway in-process when the platform sends a new config.
  const host = new GatewayHost(loaded, { logger, loadOptions: loadOptions(options) });
  try {
    await host.start();
  } catch (e) {
    await host.gateway.stop(0);
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await host.stop();
  return EXIT.ok;
}
