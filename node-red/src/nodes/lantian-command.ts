/**
 * `lantian command` (out): sends a contract command to a gateway, `<root>cmd/<name>` with the
 * caller's id, and emits the gateway's answer from `<root>cmd/<name>/result` with the same id
 * (docs/mqtt.md). One message in, one message out: the result, or an error after the timeout.
 * The payload shape of a command is kept in `commandPayload` so it follows the contract in one place.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { LantianError } from '../../../gateway/src/core/errors.js';
import { signCommand, type SignedCommand } from '../../../gateway/src/uplink/commands/sign.js';
import { loadPrivateKey } from '../../../gateway/src/uplink/integrity/keys.js';
import { defaultTopicRoot } from '../../../gateway/src/uplink/mqtt/contract.js';
import type { BrokerNode } from '../broker.js';
import { configError, describeError, numberField, requiredText } from '../settings.js';

export interface CommandNodeDef extends NodeDef {
  broker: string;
  gatewayId: string;
  topicRoot?: string;
  /** Command name; empty: msg.topic names it. */
  command?: string;
  /** Seconds to wait for the result, 0.1–600; default 10. */
  timeout?: string | number;
  /** The platform's Ed25519 private key (PEM file, mode 0600): the gateway runs signed commands only. */
  keyFile: string;
}

/**
 * What is published on `cmd/<name>` (docs/commands.md): the contract version, the caller's id,
 * the time, a fresh nonce and the arguments, signed with the platform's key.
 */
export function commandPayload(id: string, args: unknown, key: KeyObject, now = Date.now()): SignedCommand {
  return signCommand(id, args, key, now);
}

interface Pending {
  msg: NodeMessage;
  name: string;
  send: (msg: NodeMessage) => void;
  done: (err?: Error) => void;
  timer: NodeJS.Timeout;
}

export default function register(RED: NodeAPI): void {
  function LantianCommand(this: Node, def: CommandNodeDef) {
    RED.nodes.createNode(this, def);
    const who = `lantian-command "${def.name || def.id}"`;
    const broker = RED.nodes.getNode(def.broker) as BrokerNode | null;
    let root: string;
    let timeoutMs: number;
    let key: KeyObject;
    try {
      if (!broker) throw configError(who, 'broker', 'no MQTT broker is configured');
      const gatewayId = requiredText(who, 'gatewayId', def.gatewayId);
      root = def.topicRoot?.trim() || defaultTopicRoot(gatewayId);
      if (!root.endsWith('/')) root += '/';
      timeoutMs = 1000 * (numberField(who, 'timeout', def.timeout, { min: 0.1, max: 600 }) ?? 10);
      key = loadPrivateKey(requiredText(who, 'keyFile', def.keyFile));
    } catch (e) {
      const text = describeError(e);
      this.status({ fill: 'red', shape: 'ring', text: text.slice(0, 60) });
      this.error(text);
      return;
    }
    const pending = new Map<string, Pending>();
    const resultTopic = `${root}cmd/+/result`;
    broker.register(this);
    broker.subscribe(
      resultTopic,
      { qos: 1 },
      (topic, payload) => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(payload.toString()) as Record<string, unknown>;
        } catch {
          return; // not ours to judge: another client may use the topic; only ids we sent count
        }
        const id = typeof body['id'] === 'string' ? body['id'] : undefined;
        const p = id === undefined ? undefined : pending.get(id);
        if (!p || topic !== `${root}cmd/${p.name}/result`) return;
        pending.delete(id!);
        clearTimeout(p.timer);
        p.send({ ...p.msg, topic: `${p.name}/result`, payload: body, commandId: id });
        p.done();
        this.status({ fill: 'green', shape: 'dot', text: `${p.name}: answered` });
      },
      this.id,
    );

    this.on('input', (msg: NodeMessage & { commandId?: string }, send, done) => {
      const name = (def.command || (typeof msg.topic === 'string' ? msg.topic : '')).trim();
      if (!name || /[#+/]/.test(name)) {
        done(configError(who, 'command', `command name ${JSON.stringify(name)} is empty or holds #, + or /`));
        return;
      }
      const id = typeof msg.commandId === 'string' && msg.commandId ? msg.commandId : randomUUID();
      const timer = setTimeout(() => {
        pending.delete(id);
        this.status({ fill: 'red', shape: 'ring', text: `${name}: no answer` });
        done(
          new LantianError(
            'NODERED_COMMAND_TIMEOUT',
            `${who}: no result for ${name} (${id}) within ${timeoutMs} ms`,
            {
              context: { node: who, command: name, id },
            },
          ),
        );
      }, timeoutMs);
      pending.set(id, { msg, name, send: (m) => send(m), done, timer });
      broker.publish(
        {
          topic: `${root}cmd/${name}`,
          payload: JSON.stringify(commandPayload(id, msg.payload, key)),
          qos: 1,
          retain: false,
        },
        (err?: unknown) => {
          if (!err) return;
          clearTimeout(timer);
          pending.delete(id);
          done(err instanceof Error ? err : new Error(describeError(err)));
        },
      );
      this.status({ fill: 'yellow', shape: 'ring', text: `${name}: sent` });
    });

    this.on('close', (removed: boolean, done: () => void) => {
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
      broker.unsubscribe(resultTopic, this.id, removed);
      broker.deregister(this, done, removed);
    });
  }
  RED.nodes.registerType('lantian-command', LantianCommand);
}
