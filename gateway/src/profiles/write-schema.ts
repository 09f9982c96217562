/**
 * Writes device-profiles/schema.json from the zod schema, for editors (yaml-language-server).
 * `--check` fails instead of writing when the committed file differs: CI runs it that way.
 */
import { join } from 'node:path';
import { writeOrCheck } from './generated-file.js';
import { profileJsonSchema } from './json-schema.js';
import { DEFAULT_PROFILES_DIR } from './loader.js';

writeOrCheck(
  join(DEFAULT_PROFILES_DIR, 'schema.json'),
  profileJsonSchema(),
  'gateway/src/profiles/schema.ts',
  'npm run schema',
);
