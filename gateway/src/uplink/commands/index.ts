/** Commands from the platform (docs/commands.md): the handler, the registry and the built-in commands. */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Log } from '../../store/log.js';
import { loadPublicKey } from '../integrity/keys.js';
import type { ResolvedMqttOptions } from '../mqtt/options.js';
import { registerBuiltins } from './builtin.js';
import { CommandHandler } from './handler.js';
import type { CommandRegistry } from './registry.js';

export * from './contract.js';
export * from './handler.js';
export * from './registry.js';
export { ALERT_LEVELS } from './builtin.js';
export { registerGatewayCommands, type CommandedGateway } from './gateway-commands.js';

/**
 * The command handler the MQTT settings ask for (`commands`), with the built-in commands
 * registered; undefined when commands are not configured. Throws INTEGRITY_KEY_INVALID when the
 * platform key cannot be read.
 */
export function commandHandlerFor(
  log: Log,
  registry: CommandRegistry,
  options: ResolvedMqttOptions,
  env: { clock: Clock; logger?: Logger },
): CommandHandler | undefined {
  const c = options.commands;
  if (!c) return undefined;
  registerBuiltins(registry, log, env.clock);
  const settings = { platformKey: loadPublicKey(c.platformKey), maxAgeMs: c.maxAgeS * 1000 };
  return new CommandHandler(log, registry, options, settings, env);
}
