/**
 * The platform's commands for the site I/O controller, registered through the command registry
 * (docs/commands.md): `relay-override` forces a relay on or off for a bounded time, or hands it
 * back to its rule. The command and its answer are on record through the command handler; the
 * controller adds its own `relay_override` event (set, lifted, expired) and the `relay` events of
 * what the board did. A gateway without `siteIo` refuses the command as unavailable.
 */
import { z } from 'zod';
import type { CommandRegistry } from '../../gateway/src/uplink/commands/registry.js';
import type { SiteIoController } from './controller.js';

export const RELAY_OVERRIDE = 'relay-override';

export function registerSiteIoCommands(
  registry: CommandRegistry,
  controller: SiteIoController | undefined,
  overrideMaxS: number,
): void {
  if (!controller) {
    registry.markUnavailable(RELAY_OVERRIDE, 'this gateway has no site I/O controller (no siteIo section)');
    return;
  }
  const names = controller.relayNames;
  registry.register(RELAY_OVERRIDE, {
    summary: `Forces a relay on or off for durationS seconds (at most ${overrideMaxS}), or back to auto.`,
    args: z
      .object({
        relay: z
          .string()
          .refine((r) => names.includes(r), { error: `not a relay; relays: ${names.join(', ')}` }),
        state: z.enum(['on', 'off', 'auto']),
        durationS: z.number().int().min(1).max(overrideMaxS).optional(),
      })
      .strict()
      .refine((a) => a.state === 'auto' || a.durationS !== undefined, {
        error: 'on and off need durationS: an override always ends by itself',
        path: ['durationS'],
      }),
    run: ({ relay, state, durationS }) => {
      const until = controller.override(
        relay,
        state === 'auto' ? undefined : state,
        durationS === undefined ? undefined : durationS * 1000,
      );
      return { relay, state, ...(until === undefined ? {} : { until }), on: controller.relayOn(relay) };
    },
  });
}
