/**
 * The outgoing check of the two topics that carry every reading and aggregate (data, agg): the
 * contract's own schema, turned into JSON Schema by zod and compiled by ajv, plus the batch rule
 * a JSON Schema cannot state (contract.ts, batchProblem). It accepts exactly what the zod schema
 * accepts (test/unit/uplink/mqtt/outgoing-check.test.ts holds the two side by side), but checks
 * without building a copy of the message: zod's parse allocated several objects per field of
 * every reading, which made validation the largest allocation of a busy gateway's main thread
 * and with it a large part of its garbage collection (docs/mqtt.md, `validateOutgoing`).
 *
 * The other topics carry a message now and then and keep zod's check (messages.ts).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { aggBatchSchema, batchProblem, dataBatchSchema } from './contract.js';

/** Why `value` breaks the contract (ajv's errors or the batch rule), or undefined when it keeps it. */
export type OutgoingCheck = (value: unknown) => unknown;

type Batch = { first: number; last: number; count: number } & Record<string, unknown>;

let ajv: Ajv2020 | undefined;

function compile(schema: z.ZodType, items: 'readings' | 'aggregates'): OutgoingCheck {
  // Strict: numbers must be finite, as zod's are, and a schema ajv would only warn about fails
  // here (and in the tests) instead of writing to stderr; a value's type is a union.
  ajv ??= new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: false });
  const { $schema: _drop, ...body } = z.toJSONSchema(schema);
  const validate: ValidateFunction = ajv.compile(body);
  return (value: unknown): unknown => {
    if (!validate(value)) return validate.errors;
    const b = value as Batch;
    return batchProblem(b, b[items] as { seq: number }[]);
  };
}

const compiled = new Map<z.ZodType, OutgoingCheck>();

/** The compiled check of `schema` when it is one of the batch topics', else undefined. */
export function outgoingCheck(schema: unknown): OutgoingCheck | undefined {
  const kind = schema === dataBatchSchema ? 'readings' : schema === aggBatchSchema ? 'aggregates' : undefined;
  if (kind === undefined) return undefined;
  let c = compiled.get(schema as z.ZodType);
  if (!c) {
    c = compile(schema as z.ZodType, kind);
    compiled.set(schema as z.ZodType, c);
  }
  return c;
}
