/**
 * The verifier a platform runs over what it received: signatures, chains, seq continuity. It
 * reads plain JSON (no gateway decoding), so the same code serves `lantian verify` on a capture
 * and a platform's consumer. Findings name the seqs concerned; a clean stream has none.
 *
 * Chains are judged on the whole capture, not message by message, so a message that arrives
 * late is reported once as reordered rather than as two broken links.
 */
import type { KeyObject } from 'node:crypto';
import { fingerprint } from './keys.js';
import { checkSignature, messageHash, type Seal } from './seal.js';

export type FindingKind =
  | 'malformed'
  | 'unsigned'
  | 'wrong_key'
  | 'bad_signature'
  | 'broken_chain'
  | 'reorder'
  | 'fork'
  | 'duplicate'
  | 'conflict'
  | 'gap';

export interface Finding {
  kind: FindingKind;
  gateway: string | null;
  /** Log epoch (log_id) of the seqs; null when the message did not say. */
  log: string | null;
  chain: string | null;
  /** First and last seq concerned; null when the message carried none. */
  seqs: [number, number] | null;
  /** 1-based line of the capture, where known. */
  line: number | null;
  detail: string;
}

export interface CapturedMessage {
  topic: string | null;
  payload: unknown;
  line?: number;
}

export interface EpochSummary {
  gateway: string;
  log: string;
  messages: number;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The capture began after the chain did (its first message names a predecessor). */
  joinedMidChain: string[];
}

export interface VerifyReport {
  findings: Finding[];
  epochs: EpochSummary[];
  messages: number;
  /** Messages that were not records (state, health, command results): not signed, not judged. */
  ignored: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The record kind of a message, from its topic or, without one, from its shape. */
export function recordKind(topic: string | null, payload: Json): string | null {
  if (topic !== null) {
    const m = /\/(data|agg|events|blob\/[^/]+)$/.exec(topic);
    return m ? m[1]! : null;
  }
  if (Array.isArray(payload['readings'])) return 'data';
  if (Array.isArray(payload['aggregates'])) return 'agg';
  if (typeof payload['contentType'] === 'string' && typeof payload['kind'] === 'string')
    return `blob/${payload['kind']}`;
  if (typeof payload['kind'] === 'string' && typeof payload['seq'] === 'number') return 'events';
  return null;
}

/** The seqs a record message carries, or null when it carries none it can be judged by. */
export function recordSeqs(payload: Json): number[] | null {
  const items = Array.isArray(payload['readings'])
    ? payload['readings']
    : Array.isArray(payload['aggregates'])
      ? payload['aggregates']
      : [payload];
  const seqs: number[] = [];
  for (const item of items) {
    const s = isObject(item) ? item['seq'] : undefined;
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) return null;
    seqs.push(s);
  }
  return seqs.length > 0 ? seqs : null;
}

interface Node {
  hash: string;
  prev: string | null;
  first: number;
  last: number;
  line: number | null;
  arrival: number;
  good: boolean;
}

interface Epoch {
  gateway: string;
  log: string;
  messages: number;
  records: Map<number, string>;
  covered: [number, number][];
  rejected: [number, number][];
  chains: Map<string, Node[]>;
}

/** A finding about one message, before it has a line. */
export type MessageFinding = Omit<Finding, 'line'>;

/** A sealed record message whose seal names what it needs, under the expected key. */
export interface Examined {
  gateway: string;
  log: string;
  /** The record kind, which is also the chain. */
  chain: string;
  seal: Partial<Seal>;
  range: [number, number];
  /** The records it carries: readings, aggregates, or the message itself (event, blob). */
  items: Json[];
}

/**
 * The checks one message needs before it can join a chain: a record kind (else `ignored`), a
 * seal with gateway, epoch, chain and seqs, a known lane, and the key `expected` names for its
 * gateway (undefined: none registered). Signature and chain are judged by the caller.
 */
export function examine(
  topic: string | null,
  p: unknown,
  expected: (gateway: string) => string | undefined,
): { ignored: true } | { finding: MessageFinding } | Examined {
  const none = { gateway: null, log: null, chain: null, seqs: null };
  if (!isObject(p))
    return { finding: { ...none, kind: 'malformed', detail: 'payload is not a JSON object' } };
  const kind = recordKind(topic, p);
  if (kind === null) return { ignored: true };
  const gateway = typeof p['gateway'] === 'string' ? p['gateway'] : null;
  const seqs = recordSeqs(p);
  const range: [number, number] | null = seqs ? [Math.min(...seqs), Math.max(...seqs)] : null;
  const seal = p['seal'];
  if (!isObject(seal))
    return {
      finding: {
        ...none,
        kind: 'unsigned',
        gateway,
        chain: kind,
        seqs: range,
        detail: `${kind} message has no seal`,
      },
    };
  const s = seal as Partial<Seal>;
  const log = typeof s.log === 'string' ? s.log : null;
  const at = { gateway, log, chain: kind, seqs: range };
  if (gateway === null || log === null || range === null || typeof s.chain !== 'string')
    return {
      finding: {
        ...at,
        kind: 'malformed',
        detail: 'a sealed record message needs gateway, seal.log, seal.chain and seqs',
      },
    };
  if (p['lane'] !== undefined && p['lane'] !== 'live' && p['lane'] !== 'replay')
    // The lane is not signed (a replay re-sends the same evidence), so it is checked here.
    return {
      finding: {
        ...at,
        kind: 'malformed',
        detail: `lane ${JSON.stringify(p['lane'])} is neither live nor replay`,
      },
    };
  if (s.chain !== kind)
    return {
      finding: { ...at, kind: 'malformed', detail: `sealed for chain ${s.chain} but found as ${kind}` },
    };
  const key = expected(gateway);
  if (s.key !== key)
    return {
      finding: {
        ...at,
        kind: 'wrong_key',
        detail:
          key === undefined
            ? `no public key is registered for gateway ${gateway}`
            : `signed by ${String(s.key)}, expected ${key}`,
      },
    };
  const items = Array.isArray(p['readings'])
    ? (p['readings'] as Json[])
    : Array.isArray(p['aggregates'])
      ? (p['aggregates'] as Json[])
      : [p];
  return { gateway, log, chain: kind, seal: s, range, items };
}

export class StreamVerifier {
  private readonly keyFingerprint: string;
  private readonly findings: Finding[] = [];
  private readonly epochs = new Map<string, Epoch>();
  private readonly seen = new Map<string, { line: number | null }>();
  private messages = 0;
  private ignored = 0;

  constructor(private readonly publicKey: KeyObject) {
    this.keyFingerprint = fingerprint(publicKey);
  }

  /** A capture line that could not be read at all. */
  malformed(line: number, detail: string): void {
    this.messages++;
    this.report({ kind: 'malformed', line, detail });
  }

  push(message: CapturedMessage): void {
    const line = message.line ?? null;
    this.messages++;
    const x = examine(message.topic, message.payload, () => this.keyFingerprint);
    if ('ignored' in x) {
      this.ignored++;
      return;
    }
    if ('finding' in x) {
      this.report({ ...x.finding, line });
      return;
    }
    const { gateway, log, chain: kind, seal: s, range, items } = x;
    const p = message.payload as Json;
    const at = { gateway, log, chain: kind, seqs: range, line };
    const epoch = this.epoch(gateway, log);
    epoch.messages++;
    let hash: string;
    try {
      hash = messageHash(p);
    } catch {
      // Not canonically encodable (a number out of range, say): it cannot be what was signed.
      this.report({ ...at, kind: 'malformed', detail: 'the message has values JSON cannot carry exactly' });
      return;
    }
    const good = checkSignature(p, this.publicKey);
    const node: Node = {
      hash,
      prev: typeof s.prev === 'string' ? s.prev : null,
      first: range[0],
      last: range[1],
      line,
      arrival: this.messages,
      good,
    };
    if (!good) {
      this.report({
        ...at,
        kind: 'bad_signature',
        detail: 'the signature does not match the content: altered in transit or in storage',
      });
      epoch.rejected.push(range);
      this.chain(epoch, kind).push(node);
      return;
    }
    const dupKey = `${gateway}\u0000${log}\u0000${hash}`;
    const earlier = this.seen.get(dupKey);
    if (earlier) {
      this.report({
        ...at,
        kind: 'duplicate',
        detail: `the same message arrived before${earlier.line === null ? '' : ` (line ${earlier.line})`}`,
      });
      return;
    }
    this.seen.set(dupKey, { line });
    this.chain(epoch, kind).push(node);
    for (const item of items) {
      const seq = item['seq'] as number;
      const h = messageHash(kind === 'data' || kind === 'agg' ? item : { ...p, seal: null });
      const had = epoch.records.get(seq);
      if (had === undefined) epoch.records.set(seq, h);
      else if (had === h)
        this.report({
          ...at,
          seqs: [seq, seq],
          kind: 'duplicate',
          detail: `record ${seq} arrived before in another message`,
        });
      else
        this.report({
          ...at,
          seqs: [seq, seq],
          kind: 'conflict',
          detail: `record ${seq} arrived before with different content`,
        });
    }
    if (kind === 'events' && p['kind'] === 'gap' && isObject(p['payload'])) {
      const { from, to } = p['payload'];
      if (typeof from === 'number' && typeof to === 'number' && from <= to) epoch.covered.push([from, to]);
    }
  }

  /** Judges chains and continuity over everything pushed, and returns every finding. */
  finish(): VerifyReport {
    const summaries: EpochSummary[] = [];
    for (const epoch of this.epochs.values()) {
      const joinedMidChain: string[] = [];
      for (const [chain, nodes] of epoch.chains) {
        if (this.judgeChain(epoch, chain, nodes)) joinedMidChain.push(chain);
      }
      this.judgeSeqs(epoch);
      const seqs = [...epoch.records.keys()];
      summaries.push({
        gateway: epoch.gateway,
        log: epoch.log,
        messages: epoch.messages,
        records: seqs.length,
        firstSeq: seqs.length ? Math.min(...seqs) : null,
        lastSeq: seqs.length ? Math.max(...seqs) : null,
        joinedMidChain,
      });
    }
    return {
      findings: [...this.findings],
      epochs: summaries,
      messages: this.messages,
      ignored: this.ignored,
    };
  }

  /** Returns true when the capture joined this chain after its start. */
  private judgeChain(epoch: Epoch, chain: string, nodes: Node[]): boolean {
    const at = (n: Node) => ({
      gateway: epoch.gateway,
      log: epoch.log,
      chain,
      seqs: [n.first, n.last] as [number, number],
      line: n.line,
    });
    const byHash = new Map(nodes.map((n) => [n.hash, n]));
    const successors = new Map<string, Node[]>();
    for (const n of nodes) {
      if (n.prev === null) continue;
      const list = successors.get(n.prev) ?? [];
      list.push(n);
      successors.set(n.prev, list);
    }
    for (const [prev, list] of successors) {
      const good = list.filter((n) => n.good);
      if (good.length > 1) {
        for (const n of good.slice(1))
          this.report({
            ...at(n),
            kind: 'fork',
            detail: `a second message names the same predecessor ${prev.slice(0, 12)}…`,
          });
      }
    }
    // Segments: maximal runs linked by prev; a segment starts where the predecessor is unknown.
    const roots = nodes.filter((n) => n.prev === null || !byHash.has(n.prev));
    roots.sort((a, b) => a.first - b.first || a.arrival - b.arrival);
    const position = new Map<Node, number>();
    let pos = 0;
    let joinedMidChain = false;
    let tail: Node | null = null;
    roots.forEach((root, i) => {
      if (i === 0) {
        if (root.prev !== null) joinedMidChain = true;
      } else {
        // The predecessor never arrived, unless the previous segment ends in a message whose
        // signature failed: altered content changes its hash, which is already reported.
        const explained = tail !== null && !tail.good;
        if (!explained)
          this.report({
            ...at(root),
            kind: 'broken_chain',
            detail:
              root.prev === null
                ? 'the chain starts again inside the same log epoch: the signer lost its place'
                : `its predecessor ${root.prev.slice(0, 12)}… never arrived: a message is missing before seq ${root.first}`,
          });
      }
      let n: Node | undefined = root;
      while (n && !position.has(n)) {
        position.set(n, pos++);
        tail = n;
        n = successors.get(n.hash)?.[0];
      }
    });
    let highest = -1;
    let highestNode: Node | null = null;
    for (const n of [...nodes].sort((a, b) => a.arrival - b.arrival)) {
      const p = position.get(n) ?? -1;
      if (p < highest && highestNode && n.good)
        this.report({
          ...at(n),
          kind: 'reorder',
          detail: `arrived after a later message of its chain (seqs ${highestNode.first}–${highestNode.last})`,
        });
      if (p > highest) {
        highest = p;
        highestNode = n;
      }
    }
    return joinedMidChain;
  }

  private judgeSeqs(epoch: Epoch): void {
    const seqs = [...epoch.records.keys()].sort((a, b) => a - b);
    const explained = (s: number) => [...epoch.covered, ...epoch.rejected].some(([a, b]) => s >= a && s <= b);
    for (let i = 1; i < seqs.length; i++) {
      const prev = seqs[i - 1]!;
      const next = seqs[i]!;
      let from = prev + 1;
      while (from < next) {
        if (explained(from)) {
          from++;
          continue;
        }
        let to = from;
        while (to + 1 < next && !explained(to + 1)) to++;
        this.report({
          gateway: epoch.gateway,
          log: epoch.log,
          chain: null,
          seqs: [from, to],
          line: null,
          kind: 'gap',
          detail: `seqs ${from}–${to} never arrived and no gap event announced them`,
        });
        from = to + 1;
      }
    }
  }

  private epoch(gateway: string, log: string): Epoch {
    const key = `${gateway}\u0000${log}`;
    let e = this.epochs.get(key);
    if (!e) {
      e = { gateway, log, messages: 0, records: new Map(), covered: [], rejected: [], chains: new Map() };
      this.epochs.set(key, e);
    }
    return e;
  }

  private chain(epoch: Epoch, chain: string): Node[] {
    let list = epoch.chains.get(chain);
    if (!list) {
      list = [];
      epoch.chains.set(chain, list);
    }
    return list;
  }

  private report(f: Partial<Finding> & { kind: FindingKind; detail: string }): void {
    this.findings.push({ gateway: null, log: null, chain: null, seqs: null, line: null, ...f });
  }
}

/**
 * One captured line: `topic payload` as `mosquitto_sub -v` prints it, a JSON object
 * `{"topic": …, "payload": …}`, or a bare JSON payload. Blank lines give null.
 */
export function parseCaptureLine(text: string, line: number): CapturedMessage | null {
  const t = text.trim();
  if (t === '') return null;
  if (t.startsWith('{')) {
    const v = JSON.parse(t) as unknown;
    if (isObject(v) && typeof v['topic'] === 'string' && 'payload' in v) {
      const payload = typeof v['payload'] === 'string' ? (JSON.parse(v['payload']) as unknown) : v['payload'];
      return { topic: v['topic'], payload, line };
    }
    return { topic: null, payload: v, line };
  }
  const space = t.indexOf(' ');
  if (space < 0) return { topic: t, payload: null, line };
  return { topic: t.slice(0, space), payload: JSON.parse(t.slice(space + 1)) as unknown, line };
}
