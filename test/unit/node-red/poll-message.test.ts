/** One poll as a Node-RED message: values, units, flags, and the slots that overran before it. */
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import { pollMessage } from '../../../node-red/src/poll-message.js';

const dust = loadProfiles().get('boling.dust-detector');

describe('a poll as a message', () => {
  it('carries the slots that overran before the poll once, beside its readings', () => {
    const missed = { slots: 2, from: 1_000, periodMs: 1_000 };
    const msg = pollMessage('dust1', dust, [
      { ts: 3_050, device: 'dust1', point: 'pm10', value: 66, flag: 'N', missed },
      { ts: 3_050, device: 'dust1', point: 'pm25', value: 31, flag: 'N', missed },
    ]);
    expect(msg).toMatchObject({ payload: { pm10: 66, pm25: 31 }, flag: 'N', missed });
    expect(msg.readings.map((r) => r.point)).toEqual(['pm10', 'pm25']);
  });

  it('has no missed slots when none overran', () => {
    const msg = pollMessage('dust1', dust, [
      { ts: 3_050, device: 'dust1', point: 'pm10', value: 66, flag: 'N' },
    ]);
    expect(msg).not.toHaveProperty('missed');
  });
});
