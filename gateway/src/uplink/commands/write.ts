/**
 * `write`: a value to a device point its profile marks writable (`access: rw` or `w`), through
 * the device's bus between polls, read back (acquisition/write.ts) and put on record as a
 * `point_written` event with the value before and after.
 */
import { z } from 'zod';
import type { AcquisitionControl } from '../../acquisition/engine.js';
import type { Clock } from '../../core/clock.js';
import { isLantianError } from '../../core/errors.js';
import type { Log } from '../../store/log.js';
import { CommandRefusal, type CommandRegistry } from './registry.js';

export const writeArgs = z
  .object({
    device: z.string().min(1).describe('Device id from the site config.'),
    point: z.string().min(1).describe("Point key in the device's profile."),
    value: z.number().describe('The value in the point unit (after scale and offset).'),
  })
  .strict();

export function registerWrite(
  registry: CommandRegistry,
  acquisition: AcquisitionControl,
  log: Log,
  clock: Clock,
): void {
  registry.register('write', {
    summary: 'Writes a value to a writable device point and reads it back.',
    args: writeArgs,
    run: async ({ device, point, value }) => {
      const profile = acquisition.profileOf(device);
      if (!profile) throw new CommandRefusal('unknown_device', `no polled device ${device}`);
      const p = profile.points.find((x) => x.key === point);
      const writable = profile.points.filter((x) => x.access !== 'r').map((x) => x.key);
      const known = `writable points of ${device}: ${writable.join(', ') || 'none'}`;
      if (!p)
        throw new CommandRefusal('unknown_point', `profile ${profile.id} has no point ${point}; ${known}`);
      if (p.access === 'r')
        throw new CommandRefusal(
          'not_writable',
          `${device}.${point} is read-only in profile ${profile.id}; ${known}`,
        );
      try {
        const outcome = await acquisition.write(device, point, value);
        log.appendEvent({ ts: clock.now(), kind: 'point_written', payload: { ...outcome } });
        return outcome;
      } catch (e) {
        if (isLantianError(e, 'ACQ_WRITE_RANGE')) throw new CommandRefusal('out_of_range', e.message);
        if (isLantianError(e, 'ACQ_WRITE_UNSUPPORTED')) throw new CommandRefusal('not_writable', e.message);
        throw e;
      }
    },
  });
}
