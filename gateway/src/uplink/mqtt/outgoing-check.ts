/**
 * The outgoing check of the two topics that carry every reading and aggregate (data, agg): the
 * contract's own schema, turned into JSON Schema by zod and compiled by ajv (outgoing-validators.ts;
 * compiled ahead in the bundle), plus the batch rule a JSON Schema cannot state (contract.ts,
 * batchProblem). It accepts exactly what the zod schema accepts
 * (test/unit/uplink/mqtt/outgoing-check.test.ts holds the two side by side), but checks without
 * building a copy of the message: zod's parse allocated several objects per field of every
 * reading, which made validation the largest allocation of a busy gateway's main thread and with
 * it a large part of its garbage collection (docs/mqtt.md, `validateOutgoing`).
 *
 * The other topics carry a message now and then and keep zod's check (messages.ts).
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { aggBatchSchema, batchProblem, dataBatchSchema } from './contract.js';
import { batchValidators, type BatchValidators } from './outgoing-validators.js';

/** Why `value` breaks the contract (ajv's errors or the batch rule), or undefined when it keeps it. */
export type OutgoingCheck = (value: unknown) => unknown;

type Batch = { first: number; last: number; count: number } & Record<string, unknown>;

function check(validate: ValidateFunction, items: keyof BatchValidators): OutgoingCheck {
  return (value: unknown): unknown => {
    if (!validate(value)) return validate.errors;
    const b = value as Batch;
    return batchProblem(b, b[items] as { seq: number }[]);
  };
}

/** The two topics' checks from compiled validators (in this process or ahead, for the bundle). */
export function batchChecks(v: BatchValidators): Record<keyof BatchValidators, OutgoingCheck> {
  return { readings: check(v.readings, 'readings'), aggregates: check(v.aggregates, 'aggregates') };
}

let checks: Record<keyof BatchValidators, OutgoingCheck> | undefined;

/** The compiled check of `schema` when it is one of the batch topics', else undefined. */
export function outgoingCheck(schema: unknown): OutgoingCheck | undefined {
  const kind = schema === dataBatchSchema ? 'readings' : schema === aggBatchSchema ? 'aggregates' : undefined;
  if (kind === undefined) return undefined;
  checks ??= batchChecks(batchValidators());
  return checks[kind];
}
