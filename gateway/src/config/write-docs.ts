/**
 * Regenerates the option table in docs/config.md from the schema:
 * `npx tsx gateway/src/config/write-docs.ts` (add `--check` to fail instead of writing).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withFreshOptions } from './docs.js';

const file = fileURLToPath(new URL('../../../docs/config.md', import.meta.url));
const doc = readFileSync(file, 'utf8');
const fresh = withFreshOptions(doc);
if (fresh === undefined) {
  console.error('docs/config.md lacks the options or unsupported markers');
  process.exitCode = 1;
} else if (process.argv.includes('--check')) {
  if (fresh !== doc) {
    console.error('docs/config.md is out of date: run npx tsx gateway/src/config/write-docs.ts');
    process.exitCode = 1;
  }
} else if (fresh !== doc) {
  writeFileSync(file, fresh);
  console.log('wrote docs/config.md');
}
