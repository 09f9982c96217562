/**
 * The payload schemas of docs/asyncapi.yaml, compiled with ajv (JSON Schema draft-07, the base of
 * AsyncAPI's schema object), by channel name: what a platform generating its code from the
 * document would check a message against.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { ASYNCAPI_FILE } from '../../gateway/src/uplink/mqtt/write-asyncapi.js';

export interface AsyncApiFile {
  components: {
    schemas: Record<string, object>;
    messages: Record<string, { payload: { $ref: string }; examples: { name: string; payload: unknown }[] }>;
  };
  channels: Record<string, { address: string }>;
}

export function readAsyncApi(): AsyncApiFile {
  return parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as AsyncApiFile;
}

export function payloadValidators(doc = readAsyncApi()): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true });
  const out = new Map<string, ValidateFunction>();
  for (const [name, schema] of Object.entries(doc.components.schemas)) out.set(name, ajv.compile(schema));
  return out;
}

/** The channel a captured topic belongs to (`lantian/v1/gw/blob/snapshot` → blob). */
export function channelOf(topic: string): string {
  const rest = topic.split('/').slice(3);
  return rest[0] ?? '';
}
