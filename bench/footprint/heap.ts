/**
 * Reads a V8 heap snapshot (the `.heapsnapshot` JSON Node writes) and says which code the heap
 * belongs to. Every object is charged to the nearest object that dominates it (every path from
 * the roots to it passes through that one) and belongs to a script: the script itself (its
 * source text, line ends), a function's shared info (bytecode, scope info, feedback metadata)
 * or a closure (its context and whatever only it holds). Objects reachable from several
 * modules (a value one module exports and another keeps) are charged to no module and counted
 * by kind. Scripts are grouped by package: `zod`, `fastify`, …, this project's folders
 * (`gateway/src/store`, …) and Node's own built-ins (`node:*`).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapBreakdown {
  /** Self sizes of every object in the snapshot (bytes); about heapUsed. */
  totalBytes: number;
  /** Scripts (modules, Node's built-ins, eval code) present in the heap. */
  scripts: number;
  /**
   * Per package or project folder, largest first: `bytes` retained by it alone (dominated),
   * `reachedBytes` with shared objects charged to the first module on their shortest path.
   */
  byModule: { module: string; bytes: number; reachedBytes: number; scripts: number }[];
  /** Bytes charged to no script, by V8's kind of object. */
  unattributedByKind: Record<string, number>;
  /** Self sizes by V8's kind of object, for the whole heap. */
  byKind: Record<string, number>;
  /**
   * Bytes by the class of the object that holds them: every object, array, string or number is
   * charged to its nearest dominating JavaScript object or closure, by that one's constructor
   * name (`Map`, `Object`, `DeviceHealth`, …). Where per-point state lives.
   */
  byHolder: Record<string, number>;
  /** The script names, for the list of what was loaded. */
  scriptNames: string[];
}

/** `node_modules/@scope/name/…` → `@scope/name`; `dist/gateway/src/store/log.js` → `gateway/src/store`. */
export function moduleOf(script: string, projectRoot: string): string {
  const path = script.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith('node:')) return 'node (built-in)';
  if (path.startsWith(projectRoot)) {
    const rel = path
      .slice(projectRoot.length + 1)
      .replace(/^dist\//, '')
      .split('/');
    // gateway/src/<area>/…, firmware/src/…, bench/…
    return rel.length > 3 ? rel.slice(0, 3).join('/') : rel.slice(0, -1).join('/') || rel[0]!;
  }
  return script === '' ? '(no name)' : 'other';
}

export function analyseHeap(file: string, projectRoot: string): HeapBreakdown {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const meta = s.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = s;
  const n = nodes.length / nf;
  const typeOf = (i: number) => nodeTypes[nodes[i * nf]!]!;
  const nameOf = (i: number) => strings[nodes[i * nf + 1]!]!;
  const sizeOf = (i: number) => nodes[i * nf + 3]!;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + 4]! * ef;
    firstEdge[i + 1] = e;
  }
  const WEAK = edgeTypes.indexOf('weak');
  const INTERNAL = edgeTypes.indexOf('internal');
  const edgeName = (b: number) => (edgeTypes[edges[b]!] === 'internal' ? strings[edges[b + 1]!] : undefined);
  const internalTarget = (i: number, name: string): number | undefined => {
    for (let b = firstEdge[i]!; b < firstEdge[i + 1]!; b += ef)
      if (edges[b] === INTERNAL && edgeName(b) === name) return edges[b + 2]! / nf;
    return undefined;
  };
  const PROPERTY = edgeTypes.indexOf('property');
  const propertyTarget = (i: number, name: string): number | undefined => {
    for (let b = firstEdge[i]!; b < firstEdge[i + 1]!; b += ef)
      if ((edges[b] === PROPERTY || edges[b] === INTERNAL) && strings[edges[b + 1]!] === name)
        return edges[b + 2]! / nf;
    return undefined;
  };

  // Which script each script-owned object belongs to: Script, SharedFunctionInfo, closure.
  const owner = new Int32Array(n).fill(-1);
  const scriptNames: string[] = [];
  const scriptIndex = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (typeOf(i) === 'code' && internalTarget(i, 'source') !== undefined) {
      scriptIndex.set(i, scriptNames.length);
      owner[i] = scriptNames.length;
      scriptNames.push(nameOf(i));
    }
  }
  for (let i = 0; i < n; i++) {
    if (typeOf(i) !== 'code') continue;
    const script = internalTarget(i, 'script_or_debug_info');
    const k = script === undefined ? undefined : scriptIndex.get(script);
    if (k !== undefined) owner[i] = k;
  }
  for (let i = 0; i < n; i++) {
    if (typeOf(i) !== 'closure') continue;
    const shared = internalTarget(i, 'shared');
    if (shared !== undefined && owner[shared]! >= 0) owner[i] = owner[shared]!;
  }
  // An ES module: its SourceTextModule runs as a generator over the module's top-level function.
  const byName = new Map(scriptNames.map((name, k) => [name, k]));
  for (let i = 0; i < n; i++) {
    if (nameOf(i) === 'system / SourceTextModule') {
      for (let b = firstEdge[i]!; b < firstEdge[i + 1]!; b += ef) {
        const g = edges[b + 2]! / nf;
        const fn = nameOf(g) === 'Generator' ? propertyTarget(g, 'function') : undefined;
        if (fn !== undefined && owner[fn]! >= 0) owner[i] = owner[g] = owner[fn]!;
      }
    } else if (typeOf(i) === 'object' && nameOf(i) === 'Module') {
      // A CommonJS module: require.cache's Module object, named by its file.
      const file = propertyTarget(i, 'filename');
      const k = file === undefined ? undefined : byName.get(nameOf(file));
      if (k !== undefined) owner[i] = k;
    }
  }

  const graph: Graph = { n, firstEdge, edges, ef, nf, weak: WEAK };
  const idom = dominators(graph);
  // Charge each object to its nearest script-owned dominator.
  const chargeOf = nearestDominating(idom, (i) => owner[i]!);
  // The other view: each object charged to the first script-owned object on its shortest path
  // from the roots, so objects several modules share are charged to the one that reaches them first.
  const reachedBy = shortestPathOwners(graph, owner);
  const byScriptReached = new Float64Array(scriptNames.length);
  const byHolder: Record<string, number> = {};
  const isHolder = (i: number) => typeOf(i) === 'object' || typeOf(i) === 'closure';
  const holderOf = nearestDominating(idom, (i) => (isHolder(i) ? i : -1));
  const byScript = new Float64Array(scriptNames.length);
  const unattributedByKind: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let totalBytes = 0;
  for (let i = 0; i < n; i++) {
    const size = sizeOf(i);
    totalBytes += size;
    byKind[typeOf(i)] = (byKind[typeOf(i)] ?? 0) + size;
    const c = chargeOf(i);
    if (reachedBy[i]! >= 0) byScriptReached[reachedBy[i]!]! += size;
    const h = holderOf(i);
    const holderName = h < 0 ? `(${typeOf(i)})` : typeOf(h) === 'closure' ? '(closures)' : nameOf(h);
    byHolder[holderName] = (byHolder[holderName] ?? 0) + size;
    if (c >= 0) byScript[c]! += size;
    else unattributedByKind[typeOf(i)] = (unattributedByKind[typeOf(i)] ?? 0) + size;
  }
  const modules = new Map<string, { bytes: number; reachedBytes: number; scripts: number }>();
  scriptNames.forEach((name, k) => {
    const m = moduleOf(name, projectRoot);
    const entry = modules.get(m) ?? { bytes: 0, reachedBytes: 0, scripts: 0 };
    entry.bytes += byScript[k]!;
    entry.reachedBytes += byScriptReached[k]!;
    entry.scripts += 1;
    modules.set(m, entry);
  });
  return {
    totalBytes,
    scripts: scriptNames.length,
    byModule: [...modules].map(([module, v]) => ({ module, ...v })).sort((a, b) => b.bytes - a.bytes),
    unattributedByKind,
    byKind,
    byHolder,
    scriptNames,
  };
}

/**
 * For an object, what `pick` gives for its nearest dominator (itself included) that `pick`
 * answers (≥ 0) for; -1 when none does or the object is unreachable. Memoised along the chain.
 */
function nearestDominating(idom: Int32Array, pick: (i: number) => number): (i: number) => number {
  const memo = new Int32Array(idom.length).fill(-2);
  return (i) => {
    if (idom[i]! < 0) return -1;
    const path: number[] = [];
    let x = i;
    while (memo[x] === -2) {
      const picked = pick(x);
      const up = idom[x]!;
      if (picked >= 0 || up < 0 || up === x) {
        memo[x] = picked >= 0 ? picked : -1;
        break;
      }
      path.push(x);
      x = up;
    }
    for (const p of path) memo[p] = memo[x]!;
    return memo[i]!;
  };
}

/** The snapshot's graph as the two passes below walk it: edges of node v are firstEdge[v]…firstEdge[v + 1]. */
interface Graph {
  n: number;
  firstEdge: Uint32Array;
  edges: number[];
  /** Fields per edge and per node in the flat arrays. */
  ef: number;
  nf: number;
  /** The type index of weak edges, which retain nothing. */
  weak: number;
}

function shortestPathOwners({ n, firstEdge, edges, ef, nf, weak }: Graph, owner: Int32Array): Int32Array {
  const reached = new Int32Array(n).fill(-2);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  reached[0] = owner[0]!;
  while (head < tail) {
    const v = queue[head++]!;
    for (let b = firstEdge[v]!; b < firstEdge[v + 1]!; b += ef) {
      if (edges[b] === weak) continue;
      const w = edges[b + 2]! / nf;
      if (reached[w] !== -2) continue;
      reached[w] = owner[w]! >= 0 ? owner[w]! : reached[v]!;
      queue[tail++] = w;
    }
  }
  return reached;
}

/**
 * Immediate dominators from the root (node 0), ignoring weak edges: the iterative algorithm of
 * Cooper, Harvey and Kennedy over a reverse postorder. Unreachable nodes get -1.
 */
function dominators({ n, firstEdge, edges, ef, nf, weak }: Graph): Int32Array {
  // Reverse postorder by an explicit-stack depth-first search.
  const order = new Int32Array(n).fill(-1); // postorder number
  const post: number[] = [];
  const visited = new Uint8Array(n);
  const stack: number[] = [0];
  const cursor = new Uint32Array(n);
  visited[0] = 1;
  cursor[0] = firstEdge[0]!;
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (cursor[v]! < firstEdge[v + 1]!) {
      const b = cursor[v]!;
      cursor[v] = b + ef;
      if (edges[b] === weak) continue;
      const w = edges[b + 2]! / nf;
      if (!visited[w]) {
        visited[w] = 1;
        cursor[w] = firstEdge[w]!;
        stack.push(w);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  // Predecessors of reachable nodes.
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (order[v]! < 0) continue;
    for (let b = firstEdge[v]!; b < firstEdge[v + 1]!; b += ef)
      if (edges[b] !== weak) predCount[edges[b + 2]! / nf]!++;
  }
  const predStart = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) predStart[v + 1] = predStart[v]! + predCount[v]!;
  const preds = new Int32Array(predStart[n]!);
  const fill = predStart.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (order[v]! < 0) continue;
    for (let b = firstEdge[v]!; b < firstEdge[v + 1]!; b += ef)
      if (edges[b] !== weak) {
        const w = edges[b + 2]! / nf;
        preds[fill[w]!++] = v;
      }
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const v = post[k]!;
      let d = -1;
      for (let p = predStart[v]!; p < predStart[v + 1]!; p++) {
        const u = preds[p]!;
        if (idom[u]! < 0) continue;
        d = d < 0 ? u : intersect(u, d);
      }
      if (d >= 0 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  return idom;
}
