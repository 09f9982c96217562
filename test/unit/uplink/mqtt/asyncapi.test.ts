import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { StreamVerifier } from '../../../../gateway/src/uplink/integrity/verify.js';
import { SCHEMAS } from '../../../../gateway/src/uplink/mqtt/contract.js';
import {
  ASYNCAPI_FILE,
  exampleKey,
  renderAsyncApi,
} from '../../../../gateway/src/uplink/mqtt/write-asyncapi.js';
import { payloadValidators, readAsyncApi } from '../../../helpers/asyncapi.js';

describe('docs/asyncapi.yaml', () => {
  it('is what the zod contract generates', async () => {
    expect(readFileSync(ASYNCAPI_FILE, 'utf8')).toBe(await renderAsyncApi());
  });

  it('is a valid AsyncAPI document with a channel for every topic of the contract', async () => {
    const { document, diagnostics } = await new Parser().parse(readFileSync(ASYNCAPI_FILE, 'utf8'));
    // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    expect(diagnostics.filter((d) => Number(d.severity) <= 1).map((d) => `${d.code}: ${d.message}`)).toEqual(
      [],
    );
    expect(document).toBeDefined();
    const addresses = document!
      .channels()
      .all()
      .map((c) => c.address());
    for (const topic of Object.keys(SCHEMAS))
      expect(addresses).toContain(`lantian/v1/{gatewayId}/${topic.replace('<kind>', '{kind}')}`);
    for (const op of document!.operations().all()) {
      expect(op.action()).toBe('send');
      expect(op.bindings().get('mqtt')?.value()).toMatchObject({ qos: 1 });
    }
  });

  it('has an example of every message that its own schema accepts, and a schema that refuses a broken one', () => {
    const doc = readAsyncApi();
    const validators = payloadValidators(doc);
    for (const [name, message] of Object.entries(doc.components.messages)) {
      const validate = validators.get(message.payload.$ref.split('/').at(-1)!)!;
      expect(message.examples.length, name).toBeGreaterThan(0);
      for (const e of message.examples)
        expect(validate(e.payload), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const data = structuredClone(doc.components.messages['data']!.examples[0]!.payload) as Record<
      string,
      unknown
    >;
    (data['seal'] as Record<string, unknown>)['sig'] = 'not base64!';
    expect(validators.get('data')!(data)).toBe(false);
  });

  it('carries sealed record examples that verify under the published RFC 8032 test key', () => {
    const doc = readAsyncApi();
    const verifier = new StreamVerifier(exampleKey().publicKey);
    for (const [name, message] of Object.entries(doc.components.messages)) {
      const topic = doc.channels[name]!.address.replace('{gatewayId}', 'site-7').replace(
        '{kind}',
        'snapshot',
      );
      for (const e of message.examples) verifier.push({ topic, payload: e.payload });
    }
    const report = verifier.finish();
    expect(report.findings).toEqual([]);
    expect(report.epochs).toMatchObject([
      { gateway: 'site-7', messages: 4, records: 6, firstSeq: 1201, lastSeq: 1206 },
    ]);
  });
});
