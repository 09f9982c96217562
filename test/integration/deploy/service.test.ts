/**
 * deploy/lantian.service as systemd reads it: `systemd-analyze verify` finds no problem, and the
 * unit runs the compiled gateway as its own user, restarts it on failure and keeps it hardened.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { packageRoot } from '../../helpers/cli.js';
import { requireTool } from '../../helpers/tools.js';

const tools = requireTool('systemd-analyze');
const unit = readFileSync(join(packageRoot, 'deploy/lantian.service'), 'utf8');

tools.describe('the systemd unit', () => {
  tools.it('passes systemd-analyze verify without a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantian-unit-'));
    try {
      // The machine's node stands in for /usr/bin/node, which a test machine may not have.
      const file = join(dir, 'lantian.service');
      writeFileSync(file, unit.replaceAll('/usr/bin/node', process.execPath));
      const stderr = await new Promise<string>((resolve, reject) =>
        execFile('systemd-analyze', ['verify', file], (e, _out, err) =>
          e ? reject(new Error(`${e.message}\n${err}`)) : resolve(err),
        ),
      );
      expect(stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  tools.it('runs the compiled gateway as its own user, restarts on failure and writes only its state', () => {
    const settings = new Set(unit.split('\n').filter((l) => /^[A-Z]\w+=/.test(l)));
    for (const s of [
      'User=lantian',
      'Restart=on-failure',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/lantian',
      'NoNewPrivileges=true',
      'SupplementaryGroups=dialout',
      // A small site's flags: V8's lite mode, which NODE_OPTIONS refuses (README.md).
      'ExecStart=/usr/bin/node --lite-mode --no-expose-wasm /opt/lantian/dist/lantian/main.js run --config /etc/lantian/site.yaml',
    ])
      expect(settings, s).toContain(s);
    // The path the build writes (bin/lantian.js runs the same file).
    expect(readFileSync(join(packageRoot, 'bin/lantian.js'), 'utf8')).toContain("'dist/lantian/main.js'");
  });
});
