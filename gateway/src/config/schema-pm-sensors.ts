/** The `pmSensors` section: UART particulate sensors read by their own framing (not Modbus). */
import { z } from 'zod';
import { Id, int } from './schema-parts.js';

export const PmSensors = z
  .record(
    Id,
    z
      .object({
        port: z.string().min(1).meta({ description: 'Serial port of the sensor, e.g. /dev/ttyUSB1.' }),
        model: z
          .enum(['pms5003', 'sds011'])
          .meta({ description: 'Plantower PMS5003 or Nova SDS011, in active mode.' }),
        baud: int('bit/s', 1200, 115_200, 'Baud rate (both models: 9600).').default(9600),
        frameIntervalMs: int(
          'ms',
          200,
          600_000,
          'How often the sensor sends a frame; three intervals without one give B/timeout readings.',
        ).default(1000),
      })
      .strict(),
  )
  .default({})
  .meta({ description: 'UART particulate sensors, keyed by device id (points pm1_0, pm2_5, pm10, …).' });
