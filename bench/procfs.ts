/**
 * CPU time and resident memory of another process, from Linux's /proc, for the benchmarks that
 * measure the gateway, simulators, brokers or Node-RED from outside, as `top` would. CPU time covers
 * every thread of the process, so worker threads and libuv's pool count.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (almost always 100). */
const TICKS_PER_SEC = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds the process has used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB, or undefined once the process is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU use of several processes over a stretch of wall time, in % of one core. */
export class CpuMeter {
  private readonly start: number[];
  private readonly t0 = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.start = pids.map((p) => cpuSeconds(p) ?? 0);
  }

  /** Sum over the processes since construction (100 = one core busy). */
  percent(): number {
    const seconds = (performance.now() - this.t0) / 1000;
    const used = this.pids.reduce((sum, p, i) => sum + (cpuSeconds(p) ?? this.start[i]!) - this.start[i]!, 0);
    return (used / seconds) * 100;
  }
}

/** Pid of a direct child of this process running `command` (as /proc shows its name), if any. */
export function childNamed(command: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === command && ppid === process.pid) return Number(entry);
    } catch {
      // The process ended while the list was read.
    }
  }
  return undefined;
}
