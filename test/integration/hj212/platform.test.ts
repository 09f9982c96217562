/** The platform simulator over a real socket, driven by the standard's own frames. */
import { connect, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { simCrc } from '../../../hardware-sim/src/hj212/wire.js';
import { startHj212Platform, type Hj212Platform } from '../../../hardware-sim/src/hj212/platform.js';
import { MN, WORKED } from '../../fixtures/hj212/packets.js';

let platform: Hj212Platform | undefined;
let socket: Socket | undefined;
const dirs: string[] = [];
afterEach(async () => {
  socket?.destroy();
  await platform?.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function client(
  p: Hj212Platform,
): Promise<{ s: Socket; lines: string[]; next: () => Promise<string> }> {
  const s = connect(p.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  const lines: string[] = [];
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const l = buf.slice(0, i + 2);
      buf = buf.slice(i + 2);
      const w = waiting.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  socket = s;
  const next = () => {
    const l = lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise<string>((r) => waiting.push(r));
  };
  return { s, lines, next };
}

const frame = (seg: string) =>
  `##${String(seg.length).padStart(4, '0')}${seg}${simCrc('hj212', Buffer.from(seg))}\r\n`;

describe('HJ 212 platform simulator', () => {
  it('answers an upload that asks for it with the 9014 of the worked example and writes the transcript', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lantian-hj212-'));
    dirs.push(dir);
    const transcript = join(dir, 'city.txt');
    platform = await startHj212Platform({ mn: MN, password: '123456', transcript });
    const c = await client(platform);
    c.s.write(WORKED['CEMS minute data (2051)']!);
    expect(await c.next()).toBe(WORKED['data answer (9014)']);
    const text = readFileSync(transcript, 'utf8');
    expect(text).toBe(
      `F> ${WORKED['CEMS minute data (2051)']!.replace('\r\n', '\\r\\n')}\nP> ${WORKED['data answer (9014)']!.replace('\r\n', '\\r\\n')}\n`,
    );
    expect(platform.received[0]?.fields.get('a21026-Cou')).toBe('0.672');
  });

  it('answers nothing to a bad CRC, a wrong password or a lying length, and records why', async () => {
    platform = await startHj212Platform({ mn: MN, password: '123456' });
    const c = await client(platform);
    const good = WORKED['dust real-time data (2011)']!;
    c.s.write(good.replace('EA41', 'EA40'));
    c.s.write(frame(good.slice(6, -6).replace('PW=123456', 'PW=654321')));
    c.s.write(good.replace('##0373', '##0372'));
    c.s.write(good);
    expect(await c.next()).toContain('CN=9014');
    expect(platform.refused.map((r) => r.reason)).toEqual(['crc', 'pw', 'length']);
    expect(c.lines).toEqual([]);
  });

  it('sends a request and collects the 9011, the data and the 9012 of the same QN', async () => {
    platform = await startHj212Platform({ mn: MN, password: '123456' });
    const c = await client(platform);
    const pending = platform.request('1011');
    const req = await c.next();
    expect(req).toMatch(/ST=31;CN=1011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&&&/);
    const qn = /QN=(\d{17})/.exec(req)![1]!;
    c.s.write(frame(`QN=${qn};ST=91;CN=9011;PW=123456;MN=${MN};Flag=4;CP=&&QnRtn=1&&`));
    c.s.write(frame(`QN=${qn};ST=31;CN=1011;PW=123456;MN=${MN};Flag=4;CP=&&SystemTime=20240601120000&&`));
    c.s.write(frame(`QN=${qn};ST=91;CN=9012;PW=123456;MN=${MN};Flag=4;CP=&&ExeRtn=1&&`));
    const r = await pending;
    expect([r.qnRtn, r.exeRtn, r.data.map((d) => d.fields.get('SystemTime'))]).toEqual([
      1,
      1,
      ['20240601120000'],
    ]);
  });
});
