/**
 * Builds node-red-contrib-lantian: one CommonJS bundle of the nodes with Lantian's own engine,
 * contract and codec code inside (esbuild), the editor HTML beside it, and the package's copies
 * of the profile library and the example flows. Run: `npx tsx node-red/build.ts`.
 */
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

export async function buildPackage(): Promise<string> {
  rmSync(join(here, 'dist'), { recursive: true, force: true });
  mkdirSync(join(here, 'dist'), { recursive: true });
  await build({
    entryPoints: [join(here, 'src', 'index.ts')],
    outfile: join(here, 'dist', 'lantian.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Native (serialport) and CommonJS-only runtime pieces stay real dependencies of the package.
    external: ['serialport'],
    // The profile loader finds device-profiles/ from its own file: give the bundle a real URL.
    define: { 'import.meta.url': '__lantianImportMetaUrl' },
    banner: { js: "const __lantianImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    // Node-RED calls the module itself with RED.
    footer: { js: 'module.exports = module.exports.default;' },
    logLevel: 'warning',
    sourcemap: false,
    legalComments: 'none',
  });
  // The package is ESM (its sources); Node-RED require()s the bundle, so dist/ is CommonJS.
  writeFileSync(join(here, 'dist', 'package.json'), '{ "type": "commonjs" }\n');
  cpSync(join(here, 'html', 'lantian.html'), join(here, 'dist', 'lantian.html'));
  for (const [from, to] of [
    [join(root, 'device-profiles'), join(here, 'device-profiles')],
    [join(root, 'examples', 'node-red'), join(here, 'examples')],
  ] as const) {
    rmSync(to, { recursive: true, force: true });
    if (!existsSync(from)) continue;
    cpSync(from, to, { recursive: true, filter: (f) => !f.endsWith('schema.json') });
  }
  return here;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPackage();
