/**
 * `lantian-line` config node: one physical line (a serial port, a serial device server spoken to
 * with RTU over TCP, or a Modbus TCP endpoint). Every `lantian device` node naming it shares its
 * one bus, so the line carries one transaction at a time whatever the flow looks like.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { LineSettings } from '../../../gateway/src/acquisition/line.js';
import type { LinkSettings } from '../../../gateway/src/acquisition/transport/types.js';
import { LineHub, type LineConfig } from '../line-hub.js';
import { profileSummaries } from '../profiles.js';
import { choice, describeError, numberField, requiredNumber, requiredText } from '../settings.js';

export interface LineNodeDef extends NodeDef {
  transport: string;
  host?: string;
  port?: string | number;
  serialPort?: string;
  baud?: string | number;
  parity?: string;
  dataBits?: string | number;
  stopBits?: string | number;
  silenceMs?: string | number;
}

export interface LineNode extends Node {
  /** The shared bus, or undefined when the settings were refused (`problem` says why). */
  hub?: LineHub;
  problem?: string;
}

const TRANSPORTS = ['tcp', 'rtu-tcp', 'rtu'] as const;

function serialLine(who: string, def: LineNodeDef): LineSettings {
  return {
    baud: requiredNumber(who, 'baud', def.baud ?? 9600, { min: 1200, max: 115200, integer: true }),
    parity: choice(who, 'parity', def.parity || 'none', ['none', 'even', 'odd'] as const),
    dataBits: Number(choice(who, 'dataBits', String(def.dataBits || 8), ['7', '8'] as const)) as 7 | 8,
    stopBits: Number(choice(who, 'stopBits', String(def.stopBits || 1), ['1', '2'] as const)) as 1 | 2,
  };
}

/** The engine's bus settings from the editor's form; NODERED_CONFIG names a bad field. */
export function lineConfig(def: LineNodeDef): LineConfig {
  const who = `lantian-line "${def.name || def.id}"`;
  const kind = choice(who, 'transport', def.transport, TRANSPORTS);
  let link: LinkSettings;
  switch (kind) {
    case 'rtu':
      link = { kind, path: requiredText(who, 'serialPort', def.serialPort), line: serialLine(who, def) };
      break;
    case 'rtu-tcp':
      link = {
        kind,
        host: requiredText(who, 'host', def.host),
        port: requiredNumber(who, 'port', def.port, { min: 1, max: 65535, integer: true }),
        line: serialLine(who, def),
      };
      break;
    case 'tcp':
      link = {
        kind,
        host: requiredText(who, 'host', def.host),
        port: numberField(who, 'port', def.port, { min: 1, max: 65535, integer: true }) ?? 502,
      };
      break;
  }
  const silenceMs = numberField(who, 'silenceMs', def.silenceMs, { min: 0, max: 1000 });
  return { name: def.name || def.id, link, ...(silenceMs === undefined ? {} : { silenceMs }) };
}

export default function register(RED: NodeAPI): void {
  function LantianLine(this: LineNode, def: LineNodeDef) {
    RED.nodes.createNode(this, def);
    try {
      this.hub = new LineHub(lineConfig(def));
    } catch (e) {
      this.problem = describeError(e);
      this.error(this.problem);
    }
    this.on('close', (done: () => void) => {
      const hub = this.hub;
      this.hub = undefined;
      void (hub ? hub.close() : Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType('lantian-line', LantianLine);

  // The editor's profile list (read-only: ids, vendors, models and measured points).
  RED.httpAdmin.get('/lantian/profiles', RED.auth.needsPermission('lantian-line.read'), (_req, res) => {
    try {
      res.json(profileSummaries());
    } catch (e) {
      res.status(500).json({ error: describeError(e) });
    }
  });
}
