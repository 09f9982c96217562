/**
 * The JSON Schema checks of the two batch topics (data, agg): the contract's zod schemas turned
 * into JSON Schema by zod and compiled by ajv. Run from tsc's files (and in the tests) they are
 * compiled in the process, on the first batch. In the bundle `gateway/build.ts` puts in this
 * module's place the same checks compiled when the bundle is built, as ajv's standalone code
 * (`batchValidatorsSource`), so a running gateway neither loads ajv nor compiles a schema
 * (docs/footprint.md, "The outgoing check compiled ahead").
 */
import { Ajv2020, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import { z } from 'zod';
import { aggBatchSchema, dataBatchSchema } from './contract.js';

/** One compiled check per batch topic, named by what the batch carries. */
export interface BatchValidators {
  readings: ValidateFunction;
  aggregates: ValidateFunction;
}

// Strict: numbers must be finite, as zod's are, and a schema ajv would only warn about fails
// here (and in the tests) instead of writing to stderr; a value's type is a union.
const OPTIONS: Options = { strict: true, allowUnionTypes: true, allErrors: false };

function compiler(extra: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...OPTIONS, ...extra });
  for (const [name, schema] of [
    ['readings', dataBatchSchema],
    ['aggregates', aggBatchSchema],
  ] as const) {
    const { $schema: _drop, ...body } = z.toJSONSchema(schema);
    ajv.addSchema(body, name);
  }
  return ajv;
}

function validator(ajv: Ajv2020, name: keyof BatchValidators): ValidateFunction {
  const v = ajv.getSchema(name);
  if (!v) throw new Error(`outgoing check: no schema ${name}`);
  return v;
}

/** The checks compiled now, in this process. */
export function batchValidators(): BatchValidators {
  const ajv = compiler();
  return { readings: validator(ajv, 'readings'), aggregates: validator(ajv, 'aggregates') };
}

/**
 * The same checks as the source of a module that exports `readings` and `aggregates`: an ES
 * module for the bundle, CommonJS for a test to load. The code requires ajv's small run-time
 * helpers (`ajv/dist/runtime/…`), which the bundle takes in.
 */
export function batchValidatorsSource(format: 'esm' | 'cjs'): string {
  const ajv = compiler({ code: { source: true, esm: format === 'esm' } });
  // CommonJS: the default import is module.exports, the function, whose `default` is itself.
  return standalone.default(ajv, { readings: 'readings', aggregates: 'aggregates' });
}
