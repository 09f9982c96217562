/**
 * Vitest global setup: says once, at the start of the run, which system tools are missing and
 * that the suites needing them are skipped; under LANTIAN_TEST_STRICT a missing tool ends the
 * run before any test starts.
 */
import { SYSTEM_TOOLS, STRICT_ENV, missingReason, strict, type SystemTool } from './system-tools.js';

export default function setup(): void {
  const missing = (Object.keys(SYSTEM_TOOLS) as SystemTool[]).flatMap((t) => missingReason(t) ?? []);
  if (missing.length === 0) return;
  if (strict()) throw new Error(`${STRICT_ENV} is set and tools are missing: ${missing.join('; ')}`);
  console.warn(
    [
      'Some suites are skipped on this machine (their titles say why):',
      ...missing.map((m) => `  - ${m}`),
      `Install the packages to run them; CI sets ${STRICT_ENV}=1, under which a missing tool fails.`,
    ].join('\n'),
  );
}
