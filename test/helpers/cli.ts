/** Runs the `lantian` command line from the package root, as an installer would. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/lantian.js ARGS`, with `stdin` written to it (closed empty by default). */
export function lantian(args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/lantian.js', ...args],
      { cwd: packageRoot, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}
