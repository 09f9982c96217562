/**
 * A real Node-RED runtime for `bench:node-red`: a scratch user directory with both node packages
 * installed the way their users install them (`npm install` into the user directory), and
 * Node-RED itself (the project's node-red dev dependency, the version the tests use) started as a
 * child process on a flow. node-red-contrib-modbus is installed here at bench time only, never as
 * a project dependency.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPackage } from '../node-red/build.js';
import type { Counts } from './node-red-flows.js';
import { cpuSeconds } from './procfs.js';

const require = createRequire(import.meta.url);
const RED_JS = require.resolve('node-red/red.js');

/** The release compared against: the newest whose dependencies install from the npm registry. */
export const CONTRIB_MODBUS = 'node-red-contrib-modbus@5.23.3';

export interface UserDir {
  root: string;
  user: string;
  /** Installed versions of the packages that shape the comparison. */
  versions: Record<string, string>;
  remove(): void;
}

function installedVersion(user: string, pkg: string): string {
  const file = join(user, 'node_modules', ...pkg.split('/'), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/**
 * Builds and packs node-red-contrib-lantian, installs it and node-red-contrib-modbus into a fresh
 * user directory, and adds `extraProfiles` (YAML files) to the installed Lantian package's
 * profile library under device-profiles/bench/.
 */
export async function prepareUserDir(extraProfiles: string[]): Promise<UserDir> {
  const root = mkdtempSync(join(tmpdir(), 'lantian-bench-node-red-'));
  const pkg = await buildPackage();
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', root], {
    cwd: pkg,
    encoding: 'utf8',
  }).trim();
  const user = join(root, 'user');
  mkdirSync(user);
  writeFileSync(join(user, 'package.json'), '{ "name": "node-red-user", "private": true }\n');
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--save-exact',
      join(root, tgz),
      CONTRIB_MODBUS,
    ],
    { cwd: user, stdio: 'pipe' },
  );
  const profiles = join(user, 'node_modules', 'node-red-contrib-lantian', 'device-profiles', 'bench');
  mkdirSync(profiles, { recursive: true });
  for (const f of extraProfiles) copyFileSync(f, join(profiles, f.split('/').pop()!));
  const versions = Object.fromEntries(
    ['node-red-contrib-lantian', 'node-red-contrib-modbus', 'modbus-serial', 'jsmodbus'].map((p) => [
      p,
      installedVersion(user, p),
    ]),
  );
  versions['node-red'] = (require('node-red/package.json') as { version: string }).version;
  return { root, user, versions, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface Runtime {
  /** The flow's counters now. */
  counts(): Promise<Counts>;
  /** CPU time (user + system) the Node-RED process has used, ms; undefined without /proc. */
  cpuMs(): number | undefined;
  /** Everything Node-RED printed. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts Node-RED on `flow` in the user directory; resolves once the flow serves its counts. */
export async function startNodeRed(user: string, flow: object[]): Promise<Runtime> {
  writeFileSync(join(user, 'flows.json'), JSON.stringify(flow));
  rmSync(join(user, '.flows.json.backup'), { force: true });
  // Port 0: the system picks a free port, and Node-RED says which when it is listening.
  const red: ChildProcess = spawn(
    process.execPath,
    [RED_JS, '--userDir', user, '--port', '0', 'flows.json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  red.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  red.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  let port = 0;
  const counts = async (): Promise<Counts> => {
    const res = await fetch(`http://127.0.0.1:${port}/bench/counts`);
    if (!res.ok) throw new Error(`GET /bench/counts: ${res.status}`);
    return (await res.json()) as Counts;
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (red.exitCode !== null) throw new Error(`Node-RED exited:\n${text}`);
    if (Date.now() > deadline) throw new Error(`Node-RED did not start its flow:\n${text}`);
    port ||= Number(/Server now running at https?:\/\/[^/]*:(\d+)\//.exec(text)?.[1] ?? 0);
    if (port) {
      try {
        await counts();
        break;
      } catch {
        // The flow is not started yet.
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    counts,
    cpuMs: () => {
      const seconds = red.pid === undefined ? undefined : cpuSeconds(red.pid);
      return seconds === undefined ? undefined : seconds * 1000;
    },
    output: () => text,
    stop: async () => {
      if (red.exitCode !== null) return;
      const exited = new Promise((r) => red.once('exit', r));
      red.kill('SIGTERM');
      await exited;
    },
  };
}
