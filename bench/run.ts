/** `npm run bench`: every benchmark in turn, each in its own process so memory figures stay separate. */
import { spawnSync } from 'node:child_process';

const benches = [
  'bench:acquisition',
  'bench:store',
  'bench:retention',
  'bench:processing',
  'bench:node-red',
  'bench:signing',
  'bench:scale-out',
  'bench:footprint',
  'bench:scale',
];
let failed = false;
for (const b of benches) {
  console.log(`\n== npm run ${b}`);
  const r = spawnSync('npm', ['run', '--silent', b], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
