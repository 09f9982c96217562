/**
 * The demo's integrity part: the gateway gets a signing key (made with the same code as
 * `lantian keys init`), a subscriber keeps every message the platform receives as
 * `mosquitto_sub -v` lines, and the verdict runs the verifier over them. With `--capture DIR`
 * the lines and the public key are written as DIR/messages.txt and DIR/gateway.pub, so
 * `lantian verify --key DIR/gateway.pub DIR/messages.txt` checks the run again.
 *
 * What the verdict accepts besides a clean stream, and why: a message the broker delivered twice
 * (at-least-once delivery around the scripted broker restart; the same bytes) and a message the
 * embedded Aedes broker handed over after a newer one (docs/mqtt.md, "Broker note"). Both are
 * counted and named on the verdict line; anything else (a bad signature, an unsigned record, a
 * broken chain, a fork, a gap) fails it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { createKeyPair, loadPublicKey } from '../gateway/src/uplink/integrity/keys.js';
import {
  parseCaptureLine,
  recordKind,
  recordSeqs,
  StreamVerifier,
  type Finding,
} from '../gateway/src/uplink/integrity/verify.js';
import type { Check, DemoPart } from './parts.js';
import type { Raw } from './site.js';

/** Finding kinds the transport explains (see the module comment); all others fail the run. */
const TRANSPORT_FINDINGS = new Set<Finding['kind']>(['duplicate', 'reorder']);
/** How long the verdict waits for the capture to hold what the platform witness already has. */
const SETTLE_MS = 5000;

/** Highest record seq in the captured lines so far. */
function maxSeq(lines: readonly string[]): number {
  let max = 0;
  for (const [i, l] of lines.entries()) {
    const m = parseCaptureLine(l, i + 1);
    const body = m?.payload as Record<string, unknown> | undefined;
    if (!m || !body || recordKind(m.topic, body) === null) continue;
    for (const s of recordSeqs(body) ?? []) if (s > max) max = s;
  }
  return max;
}

/** Subscribes before the gateway starts, so the capture holds the stream from its first message. */
export async function integrityPart(
  gatewayId: string,
  brokerUrl: string,
  captureDir: string | undefined,
): Promise<DemoPart> {
  const client = await mqtt.connectAsync(brokerUrl, {
    clientId: `lantian-demo-capture-${process.pid}`,
    clean: false,
    reconnectPeriod: 500,
  });
  const lines: string[] = [];
  client.on('message', (topic, payload) => lines.push(`${topic} ${payload.toString('utf8')}`));
  await client.subscribeAsync(`lantian/v1/${gatewayId}/#`, { qos: 1 });
  let publicKey = '';
  return {
    name: 'integrity',
    configure(raw, ctx) {
      const keys = createKeyPair(join(ctx.dir, 'keys'));
      publicKey = keys.publicKey;
      ((raw.uplinks as Raw).mqtt as Raw).signingKey = keys.privateKey;
      ctx.note(`gateway key ${keys.fingerprint}: every record message is sealed`);
    },
    async verdict(ctx): Promise<Check[]> {
      const want = ctx.platform.stats().maxSeq;
      const deadline = Date.now() + SETTLE_MS;
      while (maxSeq(lines) < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await client.endAsync();
      if (captureDir !== undefined) {
        const dir = resolve(captureDir);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'messages.txt'), lines.map((l) => `${l}\n`).join(''));
        copyFileSync(publicKey, join(dir, 'gateway.pub'));
        ctx.note(
          `capture written: lantian verify --key ${join(dir, 'gateway.pub')} ${join(dir, 'messages.txt')}`,
        );
      }
      const verifier = new StreamVerifier(loadPublicKey(publicKey));
      lines.forEach((l, i) => {
        const m = parseCaptureLine(l, i + 1);
        if (m) verifier.push(m);
      });
      const report = verifier.finish();
      const count = (kind: Finding['kind']) => report.findings.filter((f) => f.kind === kind).length;
      const bad = report.findings.filter((f) => !TRANSPORT_FINDINGS.has(f.kind));
      const sealed = report.epochs.reduce((n, e) => n + e.messages, 0);
      const records = report.epochs.reduce((n, e) => n + e.records, 0);
      const noted = [`${count('duplicate')} delivered twice`, `${count('reorder')} reordered by the broker`];
      const text =
        bad.length === 0
          ? `integrity: ${sealed} messages verified (${records} records, every signature good, chains unbroken, no gap; ${noted.join(', ')})`
          : `integrity: ${bad.length} finding(s) in ${sealed} sealed messages, first: ${bad[0]!.kind} ${bad[0]!.detail}`;
      return [{ ok: bad.length === 0 && sealed > 0, text }];
    },
  };
}
