/**
 * Fault injection. A fault targets one device or a whole bus, lasts for a duration, a number of
 * transactions or until cleared, and may hit only a share of transactions (seeded, so a run can
 * be repeated). Power cycles are actions rather than states: they switch the device off at once.
 */
import { z } from 'zod';
import { mulberry32 } from './random.js';

export const FAULT_KINDS = [
  'no-answer',
  'late-answer',
  'crc-error',
  'wrong-unit-id',
  'exception',
  'truncated',
  'garbage',
  'drop',
  'power-cycle',
  'checksum-error',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const except = (...out: FaultKind[]) => FAULT_KINDS.filter((k) => !out.includes(k));

/** What each kind of bus or device can show. */
export const FAULTS_FOR: Record<'modbusRtu' | 'modbusTcp' | 'uart', readonly FaultKind[]> = {
  modbusRtu: except('checksum-error'),
  // Modbus TCP has no CRC: a corrupted reply shows as truncated or garbage instead.
  modbusTcp: except('checksum-error', 'crc-error'),
  // UART sensor frames carry a checksum, not a CRC, and no unit id or exception codes.
  uart: except('crc-error', 'wrong-unit-id', 'exception'),
};

/** The fields of a fault; `FaultSpec` adds the rule that it names exactly one target. */
export const FaultFields = z
  .object({
    kind: z.enum(FAULT_KINDS),
    device: z.string().min(1).optional().describe('Device id the fault hits.'),
    bus: z.string().min(1).optional().describe('Bus name the fault hits (every device on it).'),
    delayMs: z
      .number()
      .min(0)
      .max(60_000)
      .optional()
      .describe('late-answer: extra delay in ms. Default 500.'),
    exceptionCode: z
      .number()
      .int()
      .min(1)
      .max(255)
      .optional()
      .describe('exception: the Modbus exception code to answer with. Default 4 (device failure).'),
    unitId: z
      .number()
      .int()
      .min(0)
      .max(255)
      .optional()
      .describe('wrong-unit-id: the unit id put in the reply. Default: the real one + 1.'),
    keepBytes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('truncated: bytes of the reply that are sent. Default: half of it.'),
    garbageBytes: z.number().int().min(1).max(256).optional().describe('garbage: how many bytes. Default 8.'),
    garbageMode: z
      .enum(['prefix', 'replace'])
      .optional()
      .describe('garbage: noise before the reply (prefix) or instead of it (replace). Default prefix.'),
    offMs: z
      .number()
      .min(0)
      .max(600_000)
      .optional()
      .describe('power-cycle or drop: ms the power or link is off. Default 1000.'),
    durationMs: z
      .number()
      .positive()
      .optional()
      .describe('How long the fault lasts in ms. Default: until cleared.'),
    count: z.number().int().positive().optional().describe('Transactions the fault hits before it ends.'),
    probability: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('Share of transactions hit while the fault is active (0..1). Default 1.'),
  })
  .strict();

export const oneTarget = (f: { device?: string | undefined; bus?: string | undefined }): boolean =>
  (f.device === undefined) !== (f.bus === undefined);

export const FaultSpec = FaultFields.refine(oneTarget, { message: 'name exactly one target: device or bus' });
export type FaultSpec = z.output<typeof FaultSpec>;

/** Faults that act once when injected (power cycle; a drop of a whole bus's links). */
export const isAction = (f: FaultSpec): boolean =>
  f.kind === 'power-cycle' || (f.kind === 'drop' && f.device === undefined);

export interface ActiveFault {
  id: string;
  spec: FaultSpec;
  /** Wall-clock ms the fault began. */
  since: number;
  /** Wall-clock ms the fault ends, if it has a duration. */
  until?: number;
  /** Transactions left, if it has a count. */
  remaining?: number;
}

export class FaultBook {
  private readonly faults = new Map<string, ActiveFault>();
  private readonly rng: () => number;
  private next = 1;

  constructor(seed: number) {
    this.rng = mulberry32(seed ^ 0x5eed);
  }

  add(spec: FaultSpec, now: number): ActiveFault {
    const f: ActiveFault = { id: `f${this.next++}`, spec, since: now };
    if (spec.durationMs !== undefined) f.until = now + spec.durationMs;
    if (spec.count !== undefined) f.remaining = spec.count;
    this.faults.set(f.id, f);
    return f;
  }

  /** Removes one fault, or all when no id is given. Returns how many were removed. */
  clear(id?: string): number {
    if (id === undefined) {
      const n = this.faults.size;
      this.faults.clear();
      return n;
    }
    return this.faults.delete(id) ? 1 : 0;
  }

  list(now: number): ActiveFault[] {
    this.expire(now);
    return [...this.faults.values()];
  }

  /**
   * The fault that hits a transaction to `device` on `bus`, if any: a fault on the device wins
   * over one on its bus. Counts down faults with a count.
   */
  take(device: string | undefined, bus: string, now: number): ActiveFault | undefined {
    this.expire(now);
    const all = [...this.faults.values()];
    const candidates = [
      ...all.filter((f) => device !== undefined && f.spec.device === device),
      ...all.filter((f) => f.spec.bus === bus),
    ];
    for (const f of candidates) {
      if (isAction(f.spec)) continue;
      if (f.spec.probability !== undefined && this.rng() >= f.spec.probability) continue;
      if (f.remaining !== undefined && --f.remaining <= 0) this.faults.delete(f.id);
      return f;
    }
    return undefined;
  }

  private expire(now: number): void {
    for (const [id, f] of this.faults) if (f.until !== undefined && now >= f.until) this.faults.delete(id);
  }
}
