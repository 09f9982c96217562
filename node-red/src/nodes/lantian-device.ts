/**
 * `lantian device`: polls one device through Lantian's acquisition engine, by profile id, on the
 * line its config node names. One message per poll (src/poll-message.ts). The engine plans the
 * reads (coalesced), keeps the line's silences, backs a silent device off and flags every value.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { DeviceOptions } from '../../../gateway/src/acquisition/engine.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { pollMessage } from '../poll-message.js';
import { profileLibrary } from '../profiles.js';
import {
  configError,
  describeError,
  listField,
  numberField,
  requiredNumber,
  requiredText,
} from '../settings.js';
import type { LineNode } from './lantian-line.js';

export interface DeviceNodeDef extends NodeDef {
  line: string;
  profile: string;
  /** Device id in messages; default the node's name, else its id. */
  device?: string;
  unitId?: string | number;
  /** Poll period, seconds. */
  period?: string | number;
  timeoutMs?: string | number;
  retries?: string | number;
  /** Point keys, comma-separated; empty polls every measurement and status point. */
  points?: string;
}

/** The engine's device options from the editor's form; NODERED_CONFIG names a bad field. */
export function deviceOptions(def: DeviceNodeDef): DeviceOptions {
  const who = `lantian-device "${def.name || def.id}"`;
  const profile = profileLibrary().get(requiredText(who, 'profile', def.profile));
  const unitId = numberField(who, 'unitId', def.unitId, { min: 0, max: 255, integer: true });
  const timeoutMs = numberField(who, 'timeoutMs', def.timeoutMs, { min: 10, max: 60_000, integer: true });
  const retries = numberField(who, 'retries', def.retries, { min: 0, max: 5, integer: true });
  const points = listField(def.points);
  return {
    id: (def.device || def.name || def.id).trim(),
    profile,
    periodMs: Math.round(1000 * requiredNumber(who, 'period', def.period ?? 10, { min: 0.01, max: 86_400 })),
    ...(unitId === undefined ? {} : { unitId }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(retries === undefined ? {} : { retries }),
    ...(points ? { points } : {}),
  };
}

export default function register(RED: NodeAPI): void {
  function LantianDevice(this: Node, def: DeviceNodeDef) {
    RED.nodes.createNode(this, def);
    let options: DeviceOptions;
    let line: LineNode | null;
    try {
      line = RED.nodes.getNode(def.line);
      if (!line) throw configError(`lantian-device "${def.name || def.id}"`, 'line', 'no line is configured');
      options = deviceOptions(def);
      if (!line.hub)
        throw configError(`lantian-device "${options.id}"`, 'line', line.problem ?? 'line not ready');
      line.hub.attach(options, (drafts: ReadingDraft[]) => {
        const msg = pollMessage(options.id, options.profile, drafts);
        this.status(statusOf(msg.flag, msg.readings[0]?.quality?.[0], msg.ts));
        this.send({ ...msg });
      });
    } catch (e) {
      const text = describeError(e);
      this.status({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      this.error(text);
      return;
    }
    this.status({ fill: 'grey', shape: 'ring', text: 'polling' });
    this.on('close', (done: () => void) => {
      void (line?.hub ? line.hub.detach(options.id) : Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType('lantian-device', LantianDevice);
}

function statusOf(flag: string, reason: string | undefined, ts: number) {
  const time = new Date(ts).toISOString().slice(11, 19);
  if (flag === 'N') return { fill: 'green' as const, shape: 'dot' as const, text: `N ${time}` };
  if (flag === 'B')
    return { fill: 'red' as const, shape: 'ring' as const, text: `B ${reason ?? ''} ${time}` };
  return { fill: 'yellow' as const, shape: 'dot' as const, text: `${flag} ${time}` };
}
