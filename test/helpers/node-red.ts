/**
 * node-red-node-test-helper for vitest: a real Node-RED runtime in this process, flows loaded
 * with the package's nodes straight from node-red/src, messages awaited with a timeout.
 */
import { createRequire } from 'node:module';
import type { Node, NodeMessage } from 'node-red';

const require = createRequire(import.meta.url);

export interface TestHelper {
  init(runtimePath: string): void;
  startServer(done: () => void): void;
  stopServer(done: () => void): void;
  load(nodes: unknown, flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): (Node & { receive(msg: object): void }) | null;
  log(): { args: unknown[][]; getCalls(): { args: unknown[] }[] };
}

export const helper = require('node-red-node-test-helper') as TestHelper;
helper.init(require.resolve('node-red'));

export const startServer = (): Promise<void> => new Promise((r) => helper.startServer(r));
export const stopServer = (): Promise<void> => new Promise((r) => helper.stopServer(r));

/** Collects every message a node sends. */
export function collect<T = NodeMessage>(id: string): T[] {
  const node = helper.getNode(id) as { on(event: 'input', listener: (msg: T) => void): void } | null;
  if (!node) throw new Error(`no node ${id} in the flow`);
  const got: T[] = [];
  node.on('input', (msg: T) => got.push(msg));
  return got;
}

/** Resolves once `predicate` holds, polled every 20 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The error and warn lines Node-RED logged for a node, as text. */
export function loggedErrors(nodeId: string): string[] {
  return helper
    .log()
    .getCalls()
    .map((c) => c.args[0] as { id?: string; level?: number; msg?: unknown })
    .filter((e) => e && e.id === nodeId && (e.level === 20 || e.level === 30))
    .map((e) => String(e.msg));
}
