/** The commands every gateway answers: `ping` and `alert-level`. */
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import type { Log } from '../../store/log.js';
import type { CommandRegistry } from './registry.js';

/** Heavy-pollution alert levels (none, then blue to red); the site I/O controller acts on them. */
export const ALERT_LEVELS = ['none', 'blue', 'yellow', 'orange', 'red'] as const;

export function registerBuiltins(registry: CommandRegistry, log: Log, clock: Clock): void {
  registry.register('ping', {
    summary: 'Answers at once with the gateway time and the newest seq.',
    args: z.object({}).strict(),
    run: () => ({ pong: true, ts: clock.now(), lastSeq: log.lastSeq, logId: log.logId }),
  });
  registry.register('alert-level', {
    summary: 'Sets the heavy-pollution alert level: an alert_level event in the log.',
    args: z.object({ level: z.enum(ALERT_LEVELS) }).strict(),
    run: ({ level }) => ({
      seq: log.appendEvent({ ts: clock.now(), kind: 'alert_level', payload: { level } }),
    }),
  });
  registry.markUnavailable('snapshot', 'this gateway has no cameras');
}
