/**
 * Tests each HJ 212 platform of a config once (a heartbeat over TCP, see uplink/hj212/probe.ts)
 * and prints one line per platform; used by `lantian init` and `lantian hj212 check`.
 */
import type { Command } from 'commander';
import { inspectSiteConfig, type LoadedConfig } from '../config/index.js';
import { hj212SessionOptions } from '../uplink/hj212/from-config.js';
import { probePlatform } from '../uplink/hj212/probe.js';
import { EXIT, printProblems, processIo, type Io } from './output.js';

/** True when every platform answered or at least connected (2017); platforms are tried together. */
export async function checkHj212Platforms(loaded: LoadedConfig, io: Io, timeoutMs = 5000): Promise<boolean> {
  const results = await Promise.all(hj212SessionOptions(loaded).map((o) => probePlatform(o, timeoutMs)));
  for (const r of results) {
    if (r.ok) io.out(`hj212 ${r.platform} ${r.address}: ${r.detail}`);
    else io.err(`hj212 ${r.platform} ${r.address}: cannot reach the platform: ${r.error}`);
  }
  return results.every((r) => r.ok);
}

/** `lantian hj212 check CONFIG`: exit 0 when every platform is reachable, 1 when one is not. */
export function registerHj212Check(hj: Command): void {
  hj.command('check')
    .description(
      'connect to each HJ 212 platform of a site config once and send a heartbeat (9015); nothing is uploaded',
    )
    .argument('<config>', 'site config')
    .option('--timeout-ms <ms>', 'how long to wait for the connection and the answer', '5000')
    .action(async (file: string, o: { timeoutMs: string }) => {
      process.exitCode = await check(file, Number(o.timeoutMs), processIo);
    });
}

async function check(file: string, timeoutMs: number, io: Io): Promise<number> {
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    io.err('lantian hj212 check: --timeout-ms must be a positive whole number');
    return EXIT.invalid;
  }
  const { problems, loaded } = inspectSiteConfig(file);
  printProblems(io, file, problems);
  if (!loaded) return EXIT.invalid;
  if (Object.keys(loaded.config.uplinks.hj212).length === 0) {
    io.out(`${file}: no HJ 212 platforms configured`);
    return EXIT.ok;
  }
  return (await checkHj212Platforms(loaded, io, timeoutMs)) ? EXIT.ok : EXIT.unexpected;
}
