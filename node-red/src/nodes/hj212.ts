/**
 * `hj212 encode` / `hj212 decode` on Lantian's HJ 212 codec (gateway/src/uplink/hj212/): the same
 * framing, CRC variants, CP rules and 2017/2025 Flag bits the gateway's uplink uses.
 *
 * encode takes either a packet (`{st, cn, pw, mn, qn?, flag?, cp}`, cp as CP items or as a flat
 * `{name: value}` map) or a `lantian device` poll message (readings with HJ 212 factor codes),
 * which becomes real-time data (CN 2011) exactly as the gateway maps readings.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Reading } from '../../../gateway/src/core/reading.js';
import { buildFrame } from '../../../gateway/src/uplink/hj212/build.js';
import { CRC_VARIANTS, type CrcVariant } from '../../../gateway/src/uplink/hj212/crc.js';
import { realtimeCp } from '../../../gateway/src/uplink/hj212/mapping.js';
import {
  cpOf,
  editionOf,
  makeFlag,
  type CpItem,
  type Packet,
} from '../../../gateway/src/uplink/hj212/packet.js';
import { parseFrame } from '../../../gateway/src/uplink/hj212/parse.js';
import { formatQn } from '../../../gateway/src/uplink/hj212/time.js';
import type { PollMessage } from '../poll-message.js';
import { choice, configError, describeError, requiredText } from '../settings.js';

export interface Hj212NodeDef extends NodeDef {
  st?: string;
  cn?: string;
  mn?: string;
  pw?: string;
  edition?: string;
  crc?: string;
  /** IANA time zone of DataTime and QN; default Asia/Shanghai (the standard's Beijing time). */
  tz?: string;
}

interface Settings {
  st: string;
  cn: string;
  mn: string;
  pw: string;
  edition: 2017 | 2025;
  crc: CrcVariant;
  tz: string;
}

function encodeSettings(def: Hj212NodeDef): Settings {
  const who = `hj212-encode "${def.name || def.id}"`;
  const tz = def.tz?.trim() || 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw configError(who, 'tz', `tz ${JSON.stringify(tz)} is not a time zone`);
  }
  return {
    st: def.st?.trim() || '31',
    cn: def.cn?.trim() || '2011',
    mn: def.mn?.trim() ?? '',
    pw: def.pw?.trim() || '123456',
    edition: Number(choice(who, 'edition', String(def.edition || '2017'), ['2017', '2025'] as const)) as
      2017 | 2025,
    crc: choice(who, 'crc', def.crc || 'hj212', CRC_VARIANTS),
    tz,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The CP area of a message: a poll's readings (CN 2011), CP items, or a flat map. */
function cpFrom(msg: NodeMessage & Partial<PollMessage>, s: Settings, who: string): CpItem[] {
  if (Array.isArray(msg.readings) && typeof msg.device === 'string') {
    const device = msg.device;
    const readings = msg.readings.filter((r) => r.hj212);
    if (!readings.length)
      throw configError(who, 'payload', `no reading of ${device} has an HJ 212 factor code`);
    const codes = new Map(readings.map((r) => [`${device}/${r.point}`, r.hj212!]));
    const records = readings.map((r): { type: 'reading' } & Reading => ({
      type: 'reading',
      seq: 0,
      ts: r.ts,
      device,
      point: r.point,
      value: r.value,
      flag: r.flag,
    }));
    return realtimeCp(records, codes, s.tz);
  }
  const p = isObject(msg.payload) ? msg.payload : undefined;
  const cp = p?.['cp'];
  if (Array.isArray(cp)) return cp as CpItem[];
  if (isObject(cp)) return cpOf(cp as Record<string, string | number>);
  throw configError(
    who,
    'payload',
    'payload.cp (CP items or a {name: value} map) or a lantian device poll is required',
  );
}

export default function register(RED: NodeAPI): void {
  function Hj212Encode(this: Node, def: Hj212NodeDef) {
    RED.nodes.createNode(this, def);
    let s: Settings;
    try {
      s = encodeSettings(def);
    } catch (e) {
      this.error(describeError(e));
      this.status({ fill: 'red', shape: 'ring', text: 'bad settings' });
      return;
    }
    const who = `hj212-encode "${def.name || def.id}"`;
    this.on('input', (input: NodeMessage, send, done) => {
      const msg = input as NodeMessage & Partial<PollMessage>;
      try {
        const p = isObject(msg.payload) && !Array.isArray(msg.readings) ? msg.payload : {};
        const text = (k: string, d: string) =>
          typeof p[k] === 'string' || typeof p[k] === 'number' ? String(p[k]) : d;
        const ts = typeof msg.ts === 'number' ? msg.ts : Date.now();
        const packet: Packet = {
          qn: text('qn', formatQn(ts, s.tz)),
          st: text('st', s.st),
          cn: text('cn', s.cn),
          pw: text('pw', s.pw),
          mn: requiredText(who, 'mn', text('mn', s.mn)),
          flag: typeof p['flag'] === 'number' ? p['flag'] : makeFlag(s.edition),
          cp: cpFrom(msg, s, who),
        };
        send({ ...msg, payload: buildFrame(packet, { crc: s.crc }), hj212: packet });
        done();
      } catch (e) {
        done(new Error(describeError(e)));
      }
    });
  }
  RED.nodes.registerType('hj212-encode', Hj212Encode);

  function Hj212Decode(this: Node, def: Hj212NodeDef) {
    RED.nodes.createNode(this, def);
    const who = `hj212-decode "${def.name || def.id}"`;
    let crc: CrcVariant | 'any';
    try {
      crc = choice(who, 'crc', def.crc || 'any', [...CRC_VARIANTS, 'any'] as const);
    } catch (e) {
      this.error(describeError(e));
      this.status({ fill: 'red', shape: 'ring', text: 'bad settings' });
      return;
    }
    this.on('input', (msg, send, done) => {
      try {
        const input = msg.payload;
        if (typeof input !== 'string' && !Buffer.isBuffer(input))
          throw configError(who, 'payload', 'payload must be the packet as a string or Buffer');
        const parsed = parseFrame(input, { crc });
        const { packet } = parsed;
        const values: Record<string, string> = {};
        for (const item of packet.cp) for (const f of item) values[f.name] ??= f.value;
        send({
          ...msg,
          topic: packet.cn,
          payload: { ...packet, edition: editionOf(packet.flag) ?? null, values },
          hj212: {
            crcVariant: parsed.crcVariant,
            encrypted: parsed.encrypted,
            length: parsed.length,
            warnings: parsed.warnings,
          },
        });
        done();
      } catch (e) {
        done(new Error(describeError(e)));
      }
    });
  }
  RED.nodes.registerType('hj212-decode', Hj212Decode);
}
