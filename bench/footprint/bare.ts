/**
 * Two looks at memory outside the daemon, each in fresh node processes (docs/footprint.md):
 *
 *   npx tsx bench/footprint/bare.ts mqtt      # an mqtt.js client from mqtt.connect against one
 *                                             # built on a TCP stream builder (connectClient)
 *   npx tsx bench/footprint/bare.ts weights   # V8's heap taken by zod, yaml, ajv and the gateway's
 *                                             # schema modules, imported one after another
 *                                             # (needs `npm run build`: it imports dist/)
 *
 * Prints a table; writes nothing.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = 3;

function child(script: string, args: string[] = []): string {
  return execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, ...args], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
}

/** A client for a port where nothing listens, kept 4 s, then RSS, heap and Node's modules. */
const MQTT_CHILD = `
import net from 'node:net';
import mqtt from 'mqtt';
const c = process.argv[1] === 'connect'
  ? mqtt.connect('mqtt://127.0.0.1:1', { reconnectPeriod: 1000 })
  : new mqtt.MqttClient(() => net.createConnection({ host: '127.0.0.1', port: 1 }), { reconnectPeriod: 1000, protocol: 'mqtt' });
c.on('error', () => {});
setTimeout(() => {
  globalThis.gc();
  const m = process.memoryUsage();
  const builtins = process.moduleLoadList.filter((x) => x.startsWith('NativeModule')).length;
  console.log(JSON.stringify({ rssMb: +(m.rss / 2 ** 20).toFixed(1), heapUsedMb: +(m.heapUsed / 2 ** 20).toFixed(1), builtins }));
  process.exit(0);
}, 4000);
`;

const WEIGHTS_CHILD = `
const used = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed / 2 ** 20; };
const steps = [
  ['zod', 'zod'], ['yaml', 'yaml'], ['ajv', 'ajv'],
  ['config and profile schemas', './dist/gateway/src/config/schema.js'],
  ['MQTT contract', './dist/gateway/src/uplink/mqtt/contract.js'],
  ['outgoing check', './dist/gateway/src/uplink/mqtt/outgoing-check.js'],
  ['command schemas', './dist/gateway/src/uplink/commands/builtin.js'],
  ['the rest of lantian run', './dist/gateway/src/cli/commands/run.js'],
];
const out = [];
let last = used();
for (const [name, spec] of steps) {
  await import(spec);
  const now = used();
  out.push({ module: name, heapMb: +(now - last).toFixed(2) });
  last = now;
}
console.log(JSON.stringify(out));
`;

const mode = process.argv[2];
if (mode === 'mqtt') {
  const rows = [];
  for (let r = 0; r < ROUNDS; r++)
    for (const how of ['connect', 'builder'])
      rows.push({
        client: how === 'connect' ? 'mqtt.connect' : 'TCP stream builder',
        ...JSON.parse(child(MQTT_CHILD, [how])),
      });
  console.table(rows);
} else if (mode === 'weights') {
  console.table(JSON.parse(child(WEIGHTS_CHILD)));
} else {
  console.error('usage: npx tsx bench/footprint/bare.ts mqtt|weights');
  process.exit(2);
}
