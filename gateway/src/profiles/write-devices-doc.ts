/**
 * Writes docs/devices.md from the profile library. `--check` fails instead of writing when the
 * committed file differs: CI runs it that way (`npm run profiles:doc -- --check`).
 */
import { dirname, join } from 'node:path';
import { devicesDoc } from './devices-doc.js';
import { writeOrCheck } from './generated-file.js';
import { DEFAULT_PROFILES_DIR, loadProfiles } from './loader.js';

writeOrCheck(
  join(dirname(DEFAULT_PROFILES_DIR), 'docs', 'devices.md'),
  devicesDoc(loadProfiles()),
  'device-profiles/',
  'npm run profiles:doc',
);
