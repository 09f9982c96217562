/**
 * Generated files (device-profiles/schema.json, docs/devices.md): written by their script, or
 * with `--check` compared with the committed copy so CI fails when someone forgot to regenerate.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

/** Writes `fresh` to `target`, or with `--check` in argv exits 1 when the committed file differs. */
export function writeOrCheck(target: string, fresh: string, from: string, command: string): void {
  const shown = relative(process.cwd(), target);
  if (!process.argv.includes('--check')) {
    writeFileSync(target, fresh);
    console.log(`wrote ${shown}`);
    return;
  }
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== fresh) {
    console.error(`${shown} is out of date with ${from}: run \`${command}\` and commit it`);
    process.exit(1);
  }
  console.log(`${shown} is up to date`);
}
