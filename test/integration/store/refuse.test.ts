import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { childFixture, storeAppender } from '../../helpers/store-child.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = childFixture();

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A log killed by SIGKILL mid-write (committed rows only in its WAL), then truncated. */
async function killedAndTruncated(path: string): Promise<void> {
  const child = fixture.start(storeAppender, [path]);
  await child.waitForLine(/^committed 5000$/, 60_000);
  await child.kill();
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
  truncateSync(path, Math.floor(statSync(path).size / 2));
}

function lantian(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/lantian.js', ...args],
      { cwd: root, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
}

describe('a refused log', () => {
  it('is left byte for byte as it was, with its write-ahead log, when openLog refuses it', async () => {
    const path = fixture.tmp().file('log.db');
    await killedAndTruncated(path);
    const before = { db: digest(path), wal: digest(`${path}-wal`) };
    let code: string | undefined;
    try {
      openLog({ path }).close();
    } catch (e) {
      code = isLantianError(e) ? e.code : String(e);
    }
    expect(code).toBe('STORE_CORRUPT');
    expect({ db: digest(path), wal: digest(`${path}-wal`) }).toEqual(before);
    expect(existsSync(`${path}-shm`)).toBe(false);
  }, 90_000);

  it('is left byte for byte as it was when lantian run refuses it', async () => {
    const path = fixture.tmp().file('log.db');
    await killedAndTruncated(path);
    const config = fixture.tmp().file('site.yaml');
    const text = readFileSync(`${root}/examples/site.yaml`, 'utf8')
      .replace('/var/lib/lantian/log.db', path)
      .replace('secretsFile: secrets.example.yaml', `secretsFile: ${fixture.tmp().file('secrets.yaml')}`);
    writeFileSync(config, text);
    copyFileSync(`${root}/examples/secrets.example.yaml`, fixture.tmp().file('secrets.yaml'));
    chmodSync(fixture.tmp().file('secrets.yaml'), 0o600);
    const before = { db: digest(path), wal: digest(`${path}-wal`) };
    const run = await lantian(['run', '--config', config]);
    expect(run.stderr).toContain('STORE_CORRUPT');
    expect(run.code).not.toBe(0);
    expect({ db: digest(path), wal: digest(`${path}-wal`) }).toEqual(before);
  }, 120_000);
});
