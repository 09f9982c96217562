import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../../gateway/src/uplink/integrity/verify.js';
import { createKeyPair } from '../../../gateway/src/uplink/integrity/keys.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { lantian } from '../../helpers/cli.js';
import { PRODUCER } from '../../helpers/producer-settings.js';
import { lastNumber, runTs, type Child } from '../../helpers/store-child.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { requireTool } from '../../helpers/tools.js';
import { capture, maxDataSeq, type Capture } from './capture.js';

const producer = fileURLToPath(new URL('../../helpers/producer-gateway.ts', import.meta.url));
const tools = requireTool('mosquitto');

describe(tools.title('a sealing gateway killed with SIGKILL during production'), () => {
  let broker: MosquittoBroker;
  let tmp: TempDir;
  let rx: Capture | undefined;
  const children: Child[] = [];

  beforeEach(async () => {
    if (!tools.available) return;
    broker = await startMosquitto();
    tmp = tempDir('lantian-seal-kill-');
  });
  afterEach(async () => {
    if (!tools.available) return;
    for (const c of children.splice(0)) await c.kill();
    await rx?.close();
    await broker.close();
    tmp.remove();
  });

  it.skipIf(!tools.available)(
    'leaves a capture that lantian verify accepts: no fork, no broken link, no gap; only identical messages resent',
    async () => {
      const key = createKeyPair(tmp.file('keys'));
      const path = tmp.file('log.db');
      rx = await capture(broker.url, `lantian/v1/${PRODUCER.gatewayId}`, 'platform-seal-kill');
      const env = { PRODUCER_SIGNING_KEY: key.privateKey };
      let committed = 0;
      for (let round = 0; round < 2; round++) {
        const child = runTs(producer, [path, broker.url], env);
        children.push(child);
        const ready = Number((await child.waitForLine(/^ready (\d+)/, 60_000))[1]);
        const polls = 15 + Math.floor(Math.random() * 45);
        await child.waitForLine(new RegExp(`^committed ${ready + polls * PRODUCER.perPoll}$`), 30_000);
        await child.kill();
        committed = lastNumber(child.lines, 'committed');
      }
      const stopAt = committed + 200;
      const last = runTs(producer, [path, broker.url, String(stopAt)], env);
      children.push(last);
      await last.waitForLine(/^idle /, 90_000);
      await rx.waitFor((l) => maxDataSeq(l) >= stopAt, 30_000);

      const file = tmp.file('messages.txt');
      writeFileSync(file, rx.lines.join('\n') + '\n');
      const run = await lantian(['verify', '--key', key.publicKey, '--json', file]);
      const report = JSON.parse(run.stdout) as VerifyReport;
      // Resends after a kill are whole messages, byte for byte: duplicates, never conflicts.
      for (const f of report.findings) {
        expect(f.kind, JSON.stringify(f)).toBe('duplicate');
        expect(f.detail).toMatch(/^the same message arrived before/);
      }
      expect(report.epochs).toMatchObject([{ gateway: PRODUCER.gatewayId, records: stopAt, firstSeq: 1 }]);

      // What a platform keeps (each message once, whatever its lane) verifies clean.
      const seen = new Set<string>();
      const once = rx.lines.filter((l) => {
        const k = l.replace('"lane":"live"', '"lane":"replay"');
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      writeFileSync(file, once.join('\n') + '\n');
      const clean = await lantian(['verify', '--key', key.publicKey, file]);
      expect(clean.stdout).toContain('verify: ok');
      expect(clean.code).toBe(0);
    },
    240_000,
  );
});
