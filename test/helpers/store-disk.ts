/**
 * A real size-limited file system for the full-disk tests: a tmpfs mounted on a temporary
 * directory (needs root, or CAP_SYS_ADMIN in a container). `fill()` takes every free byte with
 * a filler file; `release()` deletes it, which is "the operator freed some space".
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Log } from '../../gateway/src/store/index.js';

export interface SmallDisk {
  dir: string;
  file(name: string): string;
  /** Writes a filler file until the file system answers ENOSPC. */
  fill(): void;
  /** Deletes the filler file. */
  release(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes`, or returns the reason it cannot (shown as the skip reason). */
export function mountSmallDisk(bytes: number): SmallDisk | string {
  const dir = mkdtempSync(join(tmpdir(), 'lantian-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], {
      stdio: 'pipe',
      timeout: 10_000,
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const detail = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    return `cannot mount a size-limited tmpfs (${detail}); run as root to include this test`;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    file: (name) => join(dir, name),
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (const size of [65536, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          for (;;) {
            try {
              written += writeSync(fd, chunk);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw e;
            }
            // A file system that ignores the size would take every byte of memory instead.
            if (written > 2 * bytes) throw new Error(`${dir}: the ${bytes}-byte tmpfs never filled`);
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    release: () => rmSync(filler, { force: true }),
    unmount() {
      // Lazy: a file still open after a failed test must not leave the mount behind.
      execFileSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `done()` holds, checked after every commit of the log. */
export function whenLog(log: Log, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(log.stats())}`));
    }, timeoutMs);
    const off = log.onAppend(() => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * A small disk for a whole test file, unmounted after it: `reason` is '' when mounted (else the
 * skip reason), `disk()` the mounted disk.
 */
export function smallDiskForFile(bytes: number): { reason: string; disk: () => SmallDisk } {
  const disk = mountSmallDisk(bytes);
  afterAll(() => {
    if (typeof disk !== 'string') disk.unmount();
  });
  return { reason: typeof disk === 'string' ? disk : '', disk: () => disk as SmallDisk };
}
