/**
 * The gateway as shipped: the compiled CLI (dist/gateway/src, from `tsc`) bundled by esbuild into
 * dist/lantian/, `main.js` with its acquisition thread `thread-worker.js` beside it and the chunks
 * the two share. `npm run build` runs it after `tsc`; `npx tsx gateway/build.ts` runs it alone.
 *
 * Why: a process keeps the source text of every module it loads, a function object for each
 * function their top levels create and a wrapper and record for each module. The daemon loads
 * some 500 files (its own and those of zod, yaml, ajv, mqtt.js and their dependencies), commented
 * as written. Bundled with comments and white space taken out, the same code takes about 5 MB
 * less of V8's heap at idle (docs/footprint.md, "One bundle"); bundled as written it takes no
 * less. Identifiers are kept, so stack traces still name the functions, and the linked source
 * maps lead back to the TypeScript (`node --enable-source-maps`).
 * `--readable` keeps comments and white space, to read the bundle or to compare the two.
 *
 * Left outside, loaded from node_modules as before: native addons (better-sqlite3, serialport),
 * packages loaded only for a command or a feature (fastify for the web server, @inquirer/prompts
 * for `lantian init`), and mqtt.js's WebSocket and SOCKS transports (ws, socks), which it requires
 * only for a `ws:`/`wss:` URL or a SOCKS proxy. Bundled, their text would sit in the chunk every
 * `run` loads; left outside, a plain or TLS MQTT site never reads them.
 *
 * zod's locales are left out but English: zod re-exports every locale (some 290 KB of the 570 KB
 * it adds to the bundle) as `z.locales`, and the gateway's messages are its own, with zod's English
 * ones as the default; `z.locales.en` stays.
 *
 * The outgoing check of the data and agg batches is compiled here, when the bundle is built
 * (ajv's standalone code, `batchValidatorsSource` in gateway/src/uplink/mqtt/outgoing-validators.ts),
 * and put in place of the module that compiles it at run time: the daemon then neither loads ajv
 * nor compiles a schema (docs/footprint.md, "The outgoing check compiled ahead").
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchValidatorsSource } from './src/uplink/mqtt/outgoing-validators.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle leaves to node_modules. */
export const BUNDLE_EXTERNAL = [
  'better-sqlite3',
  'serialport',
  '@serialport/*',
  'fastify',
  '@inquirer/prompts',
  'ws',
  'socks',
];

/** zod's `locales` namespace with only English in it (see above). */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** outgoing-validators' checks compiled now, in place of the module that compiles them at run time. */
const outgoingChecksAhead: Plugin = {
  name: 'outgoing-checks-ahead',
  setup(b) {
    b.onLoad({ filter: /[\\/]uplink[\\/]mqtt[\\/]outgoing-validators\.[jt]s$/ }, () => ({
      contents: `${batchValidatorsSource('esm')}\nexport function batchValidators() { return { readings, aggregates }; }\n`,
      // ajv's run-time helpers, which the generated code requires, resolve from the package.
      resolveDir: root,
      loader: 'js',
    }));
  },
};

export interface BundleOptions {
  /** Where the bundle goes; default dist/lantian. It must lie inside the package (see below). */
  outdir?: string;
  /**
   * Bundle the TypeScript sources instead of tsc's output in dist/ (the tests, which do not run
   * tsc first). The output is the same code; only its source maps differ.
   */
  fromSources?: boolean;
  /** Keep comments and white space (and the syntax as written). */
  readable?: boolean;
}

/**
 * Writes the bundle and returns the path of its `main.js`. The profile library and the version are
 * found by walking up from the running file to the package's root, so `outdir` must lie inside
 * it; the acquisition thread is started from `thread-worker.js` beside the chunk that starts it,
 * which with every file in one directory is `outdir`.
 */
export async function bundleGateway(options: BundleOptions = {}): Promise<string> {
  const outdir = options.outdir ?? join(root, 'dist', 'lantian');
  const from = options.fromSources ? join(root, 'gateway', 'src') : join(root, 'dist', 'gateway', 'src');
  const ext = options.fromSources ? 'ts' : 'js';
  const entries = {
    main: join(from, 'cli', `main.${ext}`),
    'thread-worker': join(from, 'acquisition', `thread-worker.${ext}`),
  };
  for (const file of Object.values(entries))
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (tsc) first`);
  rmSync(outdir, { recursive: true, force: true });
  const settings: BuildOptions = {
    entryPoints: entries,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: BUNDLE_EXTERNAL,
    plugins: [zodEnglishOnly, outgoingChecksAhead],
    // Comments and white space out, syntax shortened; names kept for stack traces and logs.
    minifyWhitespace: !options.readable,
    minifySyntax: !options.readable,
    legalComments: options.readable ? 'inline' : 'none',
    sourcemap: 'linked',
    sourcesContent: false,
    // The CommonJS packages inside call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __lantianCreateRequire } from 'node:module'; const require = __lantianCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  };
  await build(settings);
  return join(outdir, 'main.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const main = await bundleGateway({ readable: process.argv.includes('--readable') });
  console.log(`bundled ${main}`);
}
