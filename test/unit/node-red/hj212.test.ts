/**
 * `hj212 encode` / `hj212 decode` in a real Node-RED runtime: the standard's own Appendix A packet
 * decodes, a broken CRC is refused with its code, packets and `lantian device` polls encode to
 * frames the codec reads back, and bad settings are refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NodeMessage } from 'node-red';
import lantian from '../../../node-red/src/index.js';
import { pollMessage } from '../../../node-red/src/poll-message.js';
import { loadProfiles } from '../../../gateway/src/profiles/index.js';
import { parseFrame } from '../../../gateway/src/uplink/hj212/parse.js';
import { APPENDIX_A_2017, MN } from '../../fixtures/hj212/packets.js';
import { collect, helper, loggedErrors, startServer, stopServer, until } from '../../helpers/node-red.js';

type Out = NodeMessage & { payload: unknown };

const flow = (enc: object = {}, dec: object = {}) => [
  { id: 'flow', type: 'tab', label: 'test' },
  { id: 'n-enc', type: 'hj212-encode', z: 'flow', mn: MN, wires: [['n-enc-out']], ...enc },
  { id: 'n-dec', type: 'hj212-decode', z: 'flow', wires: [['n-dec-out']], ...dec },
  { id: 'n-enc-out', type: 'helper', z: 'flow', wires: [] },
  { id: 'n-dec-out', type: 'helper', z: 'flow', wires: [] },
];

beforeAll(startServer);
afterAll(stopServer);
afterEach(() => helper.unload());

describe('hj212 decode', () => {
  it('decodes the HJ 212-2017 Appendix A packet', async () => {
    await helper.load(lantian, flow());
    const out = collect<Out>('n-dec-out');
    helper.getNode('n-dec')!.receive({ payload: APPENDIX_A_2017 });
    await until(() => out.length === 1);
    expect(out[0]!.topic).toBe('1062');
    expect(out[0]!.payload).toMatchObject({
      cn: '1062',
      st: '32',
      mn: MN,
      edition: 2017,
      values: { RtdInterval: '30' },
    });
  });

  it('refuses a packet whose CRC does not match, with HJ212_CRC', async () => {
    await helper.load(lantian, flow({}, { crc: 'hj212' }));
    const out = collect<Out>('n-dec-out');
    helper.getNode('n-dec')!.receive({ payload: APPENDIX_A_2017.replace('1C80', '1C81') });
    await until(() => loggedErrors('n-dec').length > 0);
    expect(loggedErrors('n-dec')[0]).toMatch(/^Error: HJ212_CRC/);
    expect(out).toEqual([]);
  });
});

describe('hj212 encode', () => {
  it('encodes a packet with a flat CP map into a frame the codec reads back', async () => {
    await helper.load(lantian, flow({ edition: '2025', cn: '2011' }));
    const out = collect<Out>('n-enc-out');
    helper.getNode('n-enc')!.receive({
      payload: { qn: '20240601101000123', cp: { DataTime: '20240601101000', 'a21026-Rtd': 22.4 } },
    });
    await until(() => out.length === 1);
    const back = parseFrame(out[0]!.payload as string);
    expect(back.packet).toMatchObject({ qn: '20240601101000123', cn: '2011', st: '31', mn: MN, flag: 8 });
    expect(back.packet.cp).toEqual([
      [{ name: 'DataTime', value: '20240601101000' }],
      [{ name: 'a21026-Rtd', value: '22.4' }],
    ]);
  });

  it('encodes a lantian device poll as real-time data (CN 2011) with each factor code, value and flag', async () => {
    const dust = loadProfiles().get('boling.dust-detector');
    const poll = pollMessage('dust1', dust, [
      { ts: Date.UTC(2026, 0, 1, 2, 0, 0), device: 'dust1', point: 'pm10', value: 66, flag: 'N' },
      {
        ts: Date.UTC(2026, 0, 1, 2, 0, 0),
        device: 'dust1',
        point: 'pm25',
        value: null,
        flag: 'B',
        quality: ['timeout'],
      },
    ]);
    await helper.load(lantian, flow({ st: '39' }));
    const out = collect<Out>('n-enc-out');
    helper.getNode('n-enc')!.receive({ ...poll });
    await until(() => out.length === 1);
    const back = parseFrame(out[0]!.payload as string).packet;
    expect(back).toMatchObject({ st: '39', cn: '2011', mn: MN });
    expect(back.cp).toEqual([
      [{ name: 'DataTime', value: '20260101100000' }],
      [
        { name: 'a34002-Rtd', value: '66' },
        { name: 'a34002-Flag', value: 'N' },
      ],
      [{ name: 'a34004-Flag', value: 'B' }],
    ]);
  });

  it('refuses bad settings and a message without a CP area', async () => {
    await helper.load(lantian, flow({ crc: 'md5' }, { crc: 'sha1' }));
    await until(() => loggedErrors('n-enc').length > 0 && loggedErrors('n-dec').length > 0);
    expect(loggedErrors('n-enc')[0]).toMatch(/^NODERED_CONFIG: .*crc/);
    expect(loggedErrors('n-dec')[0]).toMatch(/^NODERED_CONFIG: .*crc/);
    await helper.unload();
    await helper.load(lantian, flow());
    helper.getNode('n-enc')!.receive({ payload: 'hello' });
    await until(() => loggedErrors('n-enc').length > 0);
    expect(loggedErrors('n-enc')[0]).toMatch(/^Error: NODERED_CONFIG: .*payload/);
  });
});
