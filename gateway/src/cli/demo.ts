/**
 * Interim `npm run demo`: checks examples/site.yaml and prints the polling plan it implies.
 * The real demo (a simulated site through the real gateway) replaces this file.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfig } from './commands/check-config.js';
import { processIo } from './output.js';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const example = relative(process.cwd(), join(packageRoot(), 'examples', 'site.yaml'));
processIo.out(`Checking ${example} (the interim demo: the simulated site comes later)`);
process.exitCode = checkConfig(example, { plan: true }, processIo);
