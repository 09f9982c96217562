import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, LantianError, isLantianError, isTimeout } from '../../../gateway/src/core/errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const),
);

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes the code defines, with the same line', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, line] of Object.entries(ERROR_CODES)) expect(documented.get(code), code).toBe(line);
  });

  it('every code starts with its area prefix', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      expect(code).toMatch(
        /^(TRANSPORT|MODBUS|PROFILE|CONFIG|ACQ|PROCESSING|STORE|UPLINK|HJ212|INTEGRITY|SIM|API|COMMISSION|IO|NODERED)_[A-Z0-9_]+$/,
      );
    }
  });

  it('keeps code, context and cause, and guards recognise them', () => {
    const cause = new Error('socket hang up');
    const e = new LantianError('TRANSPORT_TIMEOUT', 'no answer', { cause, context: { bus: 'stack1' } });
    expect(e.code).toBe('TRANSPORT_TIMEOUT');
    expect(e.name).toBe('LantianError');
    expect(e.message).toBe('no answer');
    const plain = new LantianError('MODBUS_CRC', 'bad crc');
    expect('cause' in plain).toBe(false);
    expect(plain.context).toEqual({});
    expect(e.cause).toBe(cause);
    expect(e.context).toEqual({ bus: 'stack1' });
    expect(isTimeout(e)).toBe(true);
    expect(isLantianError(e, 'MODBUS_CRC')).toBe(false);
    expect(isTimeout(new Error('Timed out'))).toBe(false);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({
      code: 'TRANSPORT_TIMEOUT',
      context: { bus: 'stack1' },
    });
  });
});
