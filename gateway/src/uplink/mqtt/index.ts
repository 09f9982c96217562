export * from './contract.js';
export { MqttPublisher, type PublisherStatus, type PublisherEvents } from './publisher.js';
export { mqttUplinkOptionsSchema, type MqttUplinkOptions, type ResolvedMqttOptions } from './options.js';
export {
  createReceiver,
  summary,
  type Receiver,
  type ReceiverOptions,
  type ReceiverStats,
} from './receiver.js';
export { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './broker.js';
