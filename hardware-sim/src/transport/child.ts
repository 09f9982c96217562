import type { ChildProcess } from 'node:child_process';

/** Ends a helper process (socat) and resolves once it has exited; nothing to do if it has. */
export async function endChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
