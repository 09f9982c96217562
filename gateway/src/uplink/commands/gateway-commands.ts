/**
 * The commands that act on the gateway's parts (the log, the uplinks, the acquisition engine),
 * registered by the Gateway once it has built them and takes commands.
 */
import type { Log } from '../../store/log.js';
import type { MqttPublisher } from '../mqtt/publisher.js';
import type { CommandRegistry } from './registry.js';
import { registerResend } from './resend.js';

/** What these commands need of the gateway. */
export interface CommandedGateway {
  readonly log: Log;
  readonly uplinks: ReadonlyMap<string, MqttPublisher>;
}

export function registerGatewayCommands(registry: CommandRegistry, gateway: CommandedGateway): void {
  registerResend(registry, gateway.log, gateway.uplinks.get('mqtt'));
}
