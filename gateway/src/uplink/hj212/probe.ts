/**
 * Can this gateway reach an HJ 212 platform? One TCP connection to the configured host and
 * port, one harmless packet, closed at once; for `lantian init` and `lantian hj212 check`.
 * The packet is a heartbeat (9015) asking for an answer: HJ 212-2025 defines it and its 9013
 * answer, so a 2025 platform that stays silent refused the MN, PW or key (platforms drop such
 * packets without a word). Under HJ 212-2017 the heartbeat is a local extension a platform may
 * ignore; there is no other packet that changes nothing on the platform, so silence there
 * proves only the TCP connection. Nothing is uploaded and no cursor moves.
 */
import { connect } from 'node:net';
import { buildFrame } from './build.js';
import { makeFlag } from './packet.js';
import type { Hj212SessionOptions } from './session.js';
import { FrameStream } from './stream.js';
import { QnSource } from './time.js';

export type ProbeResult =
  | { ok: true; platform: string; address: string; answered: boolean; ms: number; detail: string }
  | { ok: false; platform: string; address: string; error: string };

type ProbeTarget = Pick<
  Hj212SessionOptions,
  'name' | 'host' | 'port' | 'edition' | 'st' | 'mn' | 'password' | 'crc' | 'timezone' | 'sm4Key'
>;

export function probePlatform(o: ProbeTarget, timeoutMs = 5000): Promise<ProbeResult> {
  const address = `${o.host}:${o.port}`;
  const started = performance.now();
  const qn = new QnSource(o.timezone).next(Date.now());
  const frame = buildFrame(
    {
      qn,
      st: o.st,
      cn: '9015',
      pw: o.password,
      mn: o.mn,
      flag: makeFlag(o.edition, { answer: true }),
      cp: [],
    },
    { crc: o.crc, ...(o.sm4Key ? { sm4Key: o.sm4Key } : {}) },
  );
  return new Promise((resolve) => {
    const socket = connect({ host: o.host, port: o.port });
    const frames = new FrameStream({ crc: o.crc, ...(o.sm4Key ? { sm4Key: o.sm4Key } : {}) });
    let connected = false;
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const ms = () => Math.round(performance.now() - started);
    const timer = setTimeout(() => {
      if (!connected)
        done({ ok: false, platform: o.name, address, error: `no TCP connection within ${timeoutMs} ms` });
      else if (o.edition === 2025)
        done({
          ok: false,
          platform: o.name,
          address,
          error: `connected, but no 9013 to the heartbeat within ${timeoutMs} ms: check the MN, PW and SM4 key`,
        });
      else
        done({
          ok: true,
          platform: o.name,
          address,
          answered: false,
          ms: ms(),
          detail:
            'connected; no answer to the heartbeat (HJ 212-2017 need not answer it): MN and PW not confirmed',
        });
    }, timeoutMs);
    socket.once('error', (e) => done({ ok: false, platform: o.name, address, error: e.message }));
    socket.once('close', () => {
      if (connected)
        done({ ok: false, platform: o.name, address, error: 'the platform closed the connection' });
    });
    socket.once('connect', () => {
      connected = true;
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const item of frames.push(chunk)) {
        if (item.ok && item.parsed.packet.cn === '9013' && item.parsed.packet.qn === qn)
          done({
            ok: true,
            platform: o.name,
            address,
            answered: true,
            ms: ms(),
            detail: `answered the heartbeat (9013) in ${ms()} ms`,
          });
      }
    });
  });
}
