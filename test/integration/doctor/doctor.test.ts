/**
 * `lantian doctor --config` against a real broker (the embedded one) and a config whose serial
 * adapter is not plugged in: the broker login passes, the missing port fails the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { lantian } from '../../helpers/cli.js';

let dir: string;
let broker: EmbeddedBroker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lantian-doctor-'));
  broker = await startEmbeddedBroker({ port: 0 });
});

afterAll(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lantian doctor', () => {
  it('reports versions, the disk and the broker login, and fails on a serial port that is not there', async () => {
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      `version: 1
site: { id: doc-site, name: Doctor site }
gateway: { id: gw-doc }
buses:
  rs485: { kind: serial, port: ${join(dir, 'ttyUSB9')} }
devices:
  dust: { profile: sdl.scs-900cpm, bus: rs485, unitId: 2 }
uplinks:
  mqtt: { url: '${broker.url}' }
storage: { path: log.db }
`,
    );
    const run = await lantian(['doctor', '--config', file]);
    expect(run.stdout).toMatch(/^ok {4}lantian: \d+\.\d+\.\d+$/m);
    expect(run.stdout).toMatch(/^ok {4}node: 20\.|^ok {4}node: 2\d\./m);
    expect(run.stdout).toMatch(new RegExp(`^ok {4}broker ${broker.url}: logged in \\(\\d+ ms\\)$`, 'm'));
    expect(run.stdout).toMatch(/^ok {4}disk .+: \d+ MiB free$/m);
    expect(run.stdout).toContain(
      `fail  serial ${join(dir, 'ttyUSB9')}: does not exist (adapter plugged in?)`,
    );
    expect(run.stdout).toMatch(/^(ok|warn) {2,3}clock: /m);
    expect(run.code).toBe(1);
  }, 60_000);
});
