/**
 * System tools some suites need (Debian's socat, mbpoll, mosquitto). On a machine with only
 * Node.js the suites that need one are skipped, and say why in their title (or as the skip
 * note of a test skipped at run time), naming the Debian package to install. CI installs every
 * tool and sets LANTIAN_TEST_STRICT=1: then a missing tool fails the file instead, so CI never
 * skips silently.
 *
 * A tool is looked up on PATH only, the way the tests and the simulator run it.
 */
import { describe, it, type TestContext } from 'vitest';
import { STRICT_ENV, missingReason, strict, type SystemTool } from './system-tools.js';

type Body = () => unknown;

export interface ToolGuard {
  available: boolean;
  /** Why the suites that need the tools are skipped; undefined when every tool is present. */
  reason: string | undefined;
  /** The name, with the reason appended when skipped. */
  title(name: string): string;
  /** A describe block that is skipped, with the reason in its title, when a tool is missing. */
  describe(name: string, fn: () => void): void;
  /** A test that is skipped, with the reason in its title, when a tool is missing. */
  it(name: string, fn: Body, timeout?: number): void;
  /** Inside a running test (one of a table, say): skips it with the reason as its note. */
  skip(ctx: TestContext): void;
}

/**
 * A guard for suites that need these commands. Missing a tool under LANTIAN_TEST_STRICT throws
 * here, while the file is collected, so the file fails and names what is missing.
 */
export function requireTool(...commands: SystemTool[]): ToolGuard {
  const reasons = commands.map(missingReason).filter((r): r is string => r !== undefined);
  const reason = reasons.length > 0 ? reasons.join('; ') : undefined;
  if (reason && strict()) {
    throw new Error(`${STRICT_ENV} is set and a required tool is missing: ${reason}`);
  }
  const title = (name: string) => (reason ? `${name} (skipped: ${reason})` : name);
  return {
    available: reason === undefined,
    reason,
    title,
    describe: (name, fn) => describe.skipIf(reason !== undefined)(title(name), fn),
    it: (name, fn, timeout) => it.skipIf(reason !== undefined)(title(name), fn, timeout),
    skip: (ctx) => {
      if (reason) ctx.skip(reason);
    },
  };
}
