/**
 * `lantian gateway` (in): subscribes to one gateway's MQTT contract through Node-RED's own
 * `mqtt-broker` config node. Output 1: one message per reading, aggregate, event or blob, each
 * with its seq, lane and integrity verdict; a record delivered twice is passed on once. Output 2:
 * what the stream itself says (holes by seq, duplicates, late records, announced gaps, failed
 * seals, contract breaks, state and health). The checks are src/stream.ts.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { BrokerNode } from '../broker.js';
import { defaultTopicRoot } from '../../../gateway/src/uplink/mqtt/contract.js';
import { GatewayStream } from '../stream.js';
import { configError, describeError, requiredText } from '../settings.js';

export interface GatewayNodeDef extends NodeDef {
  broker: string;
  gatewayId: string;
  /** Default `lantian/v1/<gatewayId>/`. */
  topicRoot?: string;
  /** The gateway's Ed25519 public key (PEM); empty: seals are not checked. */
  publicKey?: string;
}

export function gatewaySettings(def: GatewayNodeDef): {
  gatewayId: string;
  topicRoot: string;
  key?: KeyObject;
} {
  const who = `lantian-gateway "${def.name || def.id}"`;
  const gatewayId = requiredText(who, 'gatewayId', def.gatewayId);
  if (/[#+/]/.test(gatewayId)) throw configError(who, 'gatewayId', 'gatewayId cannot hold #, + or /');
  let topicRoot = def.topicRoot?.trim() || defaultTopicRoot(gatewayId);
  if (!topicRoot.endsWith('/')) topicRoot += '/';
  let key: KeyObject | undefined;
  if (def.publicKey?.trim()) {
    try {
      key = createPublicKey(def.publicKey.trim());
    } catch (e) {
      throw configError(who, 'publicKey', `publicKey is not a PEM public key (${describeError(e)})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw configError(who, 'publicKey', 'publicKey must be Ed25519');
  }
  return { gatewayId, topicRoot, ...(key ? { key } : {}) };
}

export default function register(RED: NodeAPI): void {
  function LantianGateway(this: Node, def: GatewayNodeDef) {
    RED.nodes.createNode(this, def);
    let stream: GatewayStream;
    let subscription: string;
    const broker = RED.nodes.getNode(def.broker) as BrokerNode | null;
    try {
      if (!broker)
        throw configError(
          `lantian-gateway "${def.name || def.id}"`,
          'broker',
          'no MQTT broker is configured',
        );
      const s = gatewaySettings(def);
      stream = new GatewayStream(s.gatewayId, s.topicRoot, s.key);
      subscription = `${s.topicRoot}#`;
    } catch (e) {
      const text = describeError(e);
      this.status({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      this.error(text);
      return;
    }
    const showStatus = () => {
      const c = stream.counters();
      const holes = c.holes.reduce((n, [a, b]) => n + b - a + 1, 0);
      const bad = holes > 0 || c.failedSeals > 0 || c.invalid > 0;
      this.status({
        fill: bad ? 'yellow' : 'green',
        shape: 'dot',
        text: `seq ${c.maxSeq} · missing ${holes} · dup ${c.duplicates}${c.failedSeals ? ` · bad seals ${c.failedSeals}` : ''}`,
      });
    };
    broker.register(this);
    broker.subscribe(
      subscription,
      { qos: 1 },
      (topic, payload) => {
        const { items, reports } = stream.push(topic, payload);
        for (const r of reports)
          if (r.kind === 'integrity') this.warn(`${r.topic}: ${JSON.stringify(r.payload)}`);
        if (items.length) this.send([items.map((i) => ({ ...i })), null]);
        if (reports.length) this.send([null, reports.map((r) => ({ ...r }))]);
        showStatus();
      },
      this.id,
    );
    this.status({ fill: 'grey', shape: 'ring', text: 'subscribed' });
    this.on('close', (removed: boolean, done: () => void) => {
      broker.unsubscribe(subscription, this.id, removed);
      broker.deregister(this, done, removed);
    });
  }
  RED.nodes.registerType('lantian-gateway', LantianGateway);
}
