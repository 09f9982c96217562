/** The parts of Node-RED's core `mqtt-broker` config node (10-mqtt.js) the Lantian nodes use. */
import type { Node } from 'node-red';

export interface BrokerNode extends Node {
  connected: boolean;
  register(user: Node): void;
  deregister(user: Node, done: () => void, autoDisconnect?: boolean): void;
  subscribe(
    topic: string,
    options: { qos: 0 | 1 | 2 },
    callback: (topic: string, payload: Buffer) => void,
    ref: string,
  ): void;
  unsubscribe(topic: string, ref: string, removeClientSubscription?: boolean): void;
  /** Publishes while connected; `done` gets an error otherwise. */
  publish(
    msg: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean },
    done: (err?: unknown) => void,
  ): void;
}
