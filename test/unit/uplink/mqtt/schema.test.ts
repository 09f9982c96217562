/** The JSON Schema the platform reads (docs/mqtt-schema.json) is the one the zod contract gives. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchema, SCHEMA_FILE } from '../../../../gateway/src/uplink/mqtt/write-schema.js';

describe('the published JSON Schema', () => {
  it('docs/mqtt-schema.json is what the zod contract generates', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await renderSchema());
  });
});
