/**
 * `lantian keys init` creates the gateway's Ed25519 key pair in its state directory (beside the
 * log) and prints the public key's fingerprint, which the platform operator registers;
 * `lantian keys show` prints the fingerprint of an existing pair.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadSiteConfig } from '../../config/index.js';
import { isLantianError } from '../../core/errors.js';
import { createKeyPair, fingerprint, keyFiles, loadPrivateKey } from '../../uplink/integrity/keys.js';
import { EXIT, processIo, type Io } from '../output.js';

export interface KeysOptions {
  dir?: string;
  config?: string;
  force?: boolean;
}

/** The state directory: --dir, else the directory of the config's log file. */
export function stateDir(options: KeysOptions): string {
  if (options.dir !== undefined) return resolve(options.dir);
  if (options.config !== undefined)
    return dirname(resolve(loadSiteConfig(options.config).config.storage.path));
  return resolve('.');
}

function fail(io: Io, e: unknown): number {
  if (!isLantianError(e)) throw e;
  const hint = typeof e.context['hint'] === 'string' ? ` (${e.context['hint']})` : '';
  io.err(`lantian keys: ${e.code}: ${e.message}${hint}`);
  return EXIT.invalid;
}

export function keysInit(options: KeysOptions, io: Io): number {
  try {
    const made = createKeyPair(stateDir(options), { force: options.force === true });
    io.out(`private key ${made.privateKey} (mode 0600)`);
    io.out(`public key  ${made.publicKey}`);
    io.out(`fingerprint ${made.fingerprint}`);
    return EXIT.ok;
  } catch (e) {
    return fail(io, e);
  }
}

export function keysShow(options: KeysOptions, io: Io): number {
  try {
    const files = keyFiles(stateDir(options));
    io.out(`fingerprint ${fingerprint(loadPrivateKey(files.privateKey))}`);
    io.out(`public key  ${files.publicKey}`);
    return EXIT.ok;
  } catch (e) {
    return fail(io, e);
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("the gateway's signing key pair");
  const where = (c: Command) =>
    c
      .option('--dir <dir>', 'state directory holding gateway.key and gateway.pub')
      .option('--config <file>', 'site config: use the directory of its log file');
  where(keys.command('init').description('create the key pair and print its fingerprint'))
    .option('--force', 'replace an existing pair (platforms must register the new public key)')
    .action((options: KeysOptions) => {
      process.exitCode = keysInit(options, processIo);
    });
  where(keys.command('show').description("print the key pair's fingerprint")).action(
    (options: KeysOptions) => {
      process.exitCode = keysShow(options, processIo);
    },
  );
}
