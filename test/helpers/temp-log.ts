/**
 * A temporary log per test, for vitest files only (store-fixtures.ts stays free of vitest: child
 * processes and benchmarks import it).
 */
import { afterEach, beforeEach } from 'vitest';
import { openLog, type Log, type LogOptions } from '../../gateway/src/store/log.js';
import { tempDir, type TempDir } from './store-fixtures.js';

/**
 * For a test file: a fresh `log.db` in a temporary directory per test, opened with `open()`;
 * every log opened is closed and the directory removed after each test.
 */
export function useTempLog(): { open: (extra?: Partial<LogOptions>) => Log; path: () => string } {
  let tmp: TempDir;
  const opened: Log[] = [];
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    for (const l of opened.splice(0)) l.close();
    tmp.remove();
  });
  const path = () => tmp.file('log.db');
  return {
    path,
    open: (extra = {}) => {
      const log = openLog({ path: path(), ...extra });
      opened.push(log);
      return log;
    },
  };
}
