/**
 * Writes docs/mqtt-schema.json from the zod schemas of the MQTT contract.
 * `tsx gateway/src/uplink/mqtt/write-schema.ts` writes it; `--check` fails if it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CONTRACT_VERSION, SCHEMAS } from './contract.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../../../../docs/mqtt-schema.json', import.meta.url));

export function mqttJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [topic, schema] of Object.entries(SCHEMAS)) {
    const name = topic.replace('/<kind>', '');
    const { $schema: _drop, ...body } = z.toJSONSchema(schema);
    defs[name] = { 'x-topic': `lantian/v${CONTRACT_VERSION}/<gatewayId>/${topic}`, ...body };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://lantian.invalid/mqtt/v${CONTRACT_VERSION}/schema.json`,
    title: `Lantian MQTT contract, version ${CONTRACT_VERSION}`,
    description:
      'One definition per topic under lantian/v1/<gatewayId>/; see docs/mqtt.md. Generated, do not edit.',
    $defs: defs,
  };
}

/** The file's text, formatted by the repository's prettier (a development tool, loaded only here). */
export async function renderSchema(): Promise<string> {
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return prettier.format(JSON.stringify(mqttJsonSchema()), { ...config, parser: 'json' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await renderSchema();
  if (process.argv.includes('--check')) {
    if (readFileSync(SCHEMA_FILE, 'utf8') !== text) {
      console.error(`${SCHEMA_FILE} is stale: run tsx gateway/src/uplink/mqtt/write-schema.ts`);
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_FILE, text);
  }
}
