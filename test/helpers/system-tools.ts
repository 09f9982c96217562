/**
 * Looking up the system tools some suites need, without vitest: used by the guards in tools.ts
 * and by the global setup that lists, once per run, what is skipped and why.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The tools the suites may need, by command, with the Debian package that installs each. */
export const SYSTEM_TOOLS = {
  socat: 'socat',
  mbpoll: 'mbpoll',
  mosquitto: 'mosquitto',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
} as const;
export type SystemTool = keyof typeof SYSTEM_TOOLS;

export const STRICT_ENV = 'LANTIAN_TEST_STRICT';

export function strict(): boolean {
  const v = process.env[STRICT_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

/** The full path of an executable `command` on PATH, or undefined. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, command);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why a missing tool is missing, naming the package; undefined when it is on PATH. */
export function missingReason(command: SystemTool): string | undefined {
  if (findOnPath(command)) return undefined;
  // Debian puts mosquitto in /usr/sbin, which is not on every user's PATH.
  const elsewhere = findOnPath(command, ['/usr/sbin', '/usr/local/sbin', '/sbin'].join(delimiter));
  const hint = elsewhere ? `; ${elsewhere} exists: add its directory to PATH` : '';
  return `needs ${command}, not on PATH (Debian package ${SYSTEM_TOOLS[command]}${hint})`;
}
