/**
 * The gateway inside a host that can restart it with a new site config: the `config` command.
 *
 * A new config (YAML or JSON text) is validated as check-config validates a file (at the config
 * file's place, so relative paths mean the same), and refused `invalid_config` with every problem.
 * A valid one is written atomically (temp file, fsync, rename; the old file kept as `<file>.bak`)
 * and the command answers with both hashes. Then, once the answer is out, the gateway stops as
 * for a reload and a new one starts from the new config; if it cannot (its log, keys, TLS files
 * or web port fail), the old file is put back and the gateway starts again from the old config.
 * Either way a `config_change` event (old and new sha256, applied or rolled back, and why) goes
 * into the log of the gateway that runs, forwarded and sealed like every record.
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  errorsOf,
  formatConfigProblem,
  inspectRaw,
  type LoadedConfig,
  type LoadOptions,
} from '../../config/index.js';
import { systemClock } from '../../core/clock.js';
import { isLantianError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { Gateway, type GatewayDeps } from '../../gateway.js';
import { MAX_COMMAND_BYTES } from './contract.js';
import { CommandRefusal } from './registry.js';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');

export const configArgs = z
  .object({
    text: z
      .string()
      .min(1)
      .max(MAX_COMMAND_BYTES)
      .describe('The whole new site config, YAML or JSON, as it is to be written to the file.'),
  })
  .strict();

/** Writes `text` to `file` atomically, the old file kept beside it as `<file>.bak`. */
function replaceFile(file: string, text: string): void {
  copyFileSync(file, `${file}.bak`);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export interface HostOptions extends GatewayDeps {
  /** How the config is loaded (profiles, secrets file): the same for a new one. */
  loadOptions?: LoadOptions;
  /** Time the old gateway gets to deliver what it logged before a restart, ms. */
  drainMs?: number;
}

export class GatewayHost {
  gateway: Gateway;
  private restarting: Promise<void> | undefined;

  constructor(
    private loaded: LoadedConfig,
    private readonly options: HostOptions = {},
  ) {
    this.gateway = this.build(loaded);
  }

  private build(loaded: LoadedConfig): Gateway {
    const gateway = new Gateway(loaded, this.options);
    gateway.commands.register('config', {
      summary: 'Validates a new site config, writes it atomically and restarts the gateway with it.',
      args: configArgs,
      run: ({ text }) => this.apply(text),
    });
    return gateway;
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  /** Starts the gateway; rejects when it cannot (its web page cannot listen, ...). */
  async start(): Promise<void> {
    this.gateway.start();
    await this.gateway.webUrl;
  }

  async stop(): Promise<void> {
    await this.restarting;
    await this.gateway.stop();
  }

  /** Resolves once a restart the `config` command began is over (tests, and a clean stop). */
  settled(): Promise<void> {
    return this.restarting ?? Promise.resolve();
  }

  private apply(text: string): { oldHash: string; newHash: string; restarting: true } {
    if (this.restarting) throw new CommandRefusal('busy', 'a config change is still being applied');
    let data: unknown;
    try {
      data = parseYaml(text);
    } catch (e) {
      throw new CommandRefusal('invalid_config', `not YAML or JSON: ${(e as Error).message}`);
    }
    const file = this.loaded.file;
    const { problems, loaded } = inspectRaw(data, file, () => undefined, this.options.loadOptions);
    if (!loaded) {
      throw new CommandRefusal('invalid_config', errorsOf(problems).map(formatConfigProblem).join('; '));
    }
    const oldText = readFileSync(file);
    const hashes = { oldHash: sha256(oldText), newHash: sha256(text) };
    replaceFile(file, text);
    const old = this.loaded;
    // After the answer has gone out on the old gateway's connection.
    this.restarting = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.restart(old, loaded, hashes))
      .catch((e: unknown) =>
        (this.options.logger ?? silentLogger).fatal(
          { err: e },
          'the gateway cannot start with the old config either',
        ),
      )
      .finally(() => (this.restarting = undefined));
    return { ...hashes, restarting: true };
  }

  private async restart(old: LoadedConfig, next: LoadedConfig, hashes: { oldHash: string; newHash: string }) {
    const logger = this.options.logger ?? silentLogger;
    await this.gateway.stop(this.options.drainMs ?? 2000, 'config_reload');
    let started: Gateway | undefined;
    try {
      started = this.build(next);
      this.gateway = started;
      await this.start();
      this.loaded = next;
      started.log.appendEvent({
        ts: this.now(),
        kind: 'config_change',
        payload: { ...hashes, file: next.file, applied: true },
      });
      logger.info(hashes, 'gateway restarted with the new config');
    } catch (e) {
      const why = isLantianError(e) ? `${e.code}: ${e.message}` : String(e);
      logger.error({ err: e, ...hashes }, 'the gateway cannot start with the new config; rolling back');
      await started?.stop(0).catch(() => undefined);
      renameSync(`${old.file}.bak`, old.file);
      this.gateway = this.build(old);
      await this.start();
      this.gateway.log.appendEvent({
        ts: this.now(),
        kind: 'config_change',
        payload: { ...hashes, file: old.file, applied: false, rolledBack: true, error: why },
      });
    }
  }
}
