/**
 * The commands that act on the gateway's parts (the log, the uplinks, the acquisition engine),
 * registered by the Gateway once it has built them and takes commands.
 */
import { z } from 'zod';
import type { AcquisitionControl } from '../../acquisition/engine.js';
import type { Clock } from '../../core/clock.js';
import type { Log } from '../../store/log.js';
import type { MqttPublisher } from '../mqtt/publisher.js';
import { CommandRefusal, type CommandRegistry } from './registry.js';
import { registerResend } from './resend.js';
import { registerWrite } from './write.js';

/** What these commands need of the gateway. */
export interface CommandedGateway {
  readonly log: Log;
  readonly uplinks: ReadonlyMap<string, MqttPublisher>;
  readonly acquisition: AcquisitionControl;
}

/** Runs `task` unless one of its kind still runs; then refuses `busy`. */
export function oneAtATime<T>(what: string, task: () => Promise<T>): () => Promise<T> {
  let running = false;
  return async () => {
    if (running) throw new CommandRefusal('busy', `${what} is still running`);
    running = true;
    try {
      return await task();
    } finally {
      running = false;
    }
  };
}

export function registerGatewayCommands(
  registry: CommandRegistry,
  gateway: CommandedGateway,
  clock: Clock,
): void {
  registerResend(registry, gateway.log, gateway.uplinks.get('mqtt'));
  const restart = oneAtATime('a restart of acquisition', async () => {
    const t0 = clock.monotonic();
    await gateway.acquisition.restart();
    return { restartedInMs: Math.round(clock.monotonic() - t0) };
  });
  registry.register('restart-acquisition', {
    summary: 'Stops polling (a poll cut short is discarded), closes and reopens the links, polls again.',
    args: z.object({}).strict(),
    run: restart,
  });
  registerWrite(registry, gateway.acquisition, gateway.log, clock);
}
