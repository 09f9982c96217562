/**
 * Writes device-profiles/schema.json from the zod schema, for editors (yaml-language-server).
 * `--check` fails instead of writing when the committed file differs: CI runs it that way.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { profileJsonSchema } from './json-schema.js';
import { DEFAULT_PROFILES_DIR } from './loader.js';

const target = join(DEFAULT_PROFILES_DIR, 'schema.json');
const shown = relative(process.cwd(), target);
const fresh = profileJsonSchema();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== fresh) {
    console.error(
      `${shown} is out of date with gateway/src/profiles/schema.ts: run \`npm run schema\` and commit it`,
    );
    process.exit(1);
  }
  console.log(`${shown} is up to date`);
} else {
  writeFileSync(target, fresh);
  console.log(`wrote ${shown}`);
}
