/** The `snapshot` command (docs/commands.md): a picture now from a named camera, stored and forwarded. */
import { z } from 'zod';
import type { CommandRegistry } from '../uplink/commands/registry.js';
import type { CameraService } from './service.js';

export function registerSnapshotCommand(registry: CommandRegistry, cameras: CameraService): void {
  const ids = cameras.ids;
  registry.register('snapshot', {
    summary: 'Takes a picture now from a camera; answers with the seq of the blob in the log.',
    args: z
      .object({
        camera: z
          .string()
          .min(1)
          .optional()
          .describe(`Camera id; may be left out when the site has one camera (${ids.join(', ')}).`),
      })
      .strict(),
    run: async ({ camera }) => {
      const which = camera ?? (ids.length === 1 ? ids[0]! : undefined);
      if (which === undefined) throw new Error(`name the camera: one of ${ids.join(', ')}`);
      return cameras.snapshot(which, { reason: 'command' });
    },
  });
}
