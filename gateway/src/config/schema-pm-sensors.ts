/** The `pmSensors` section: UART particulate sensors read by their own framing (not Modbus). */
import { z } from 'zod';
import { Id, int } from './schema-parts.js';

/** Points each model gives, in frame order (PMS5003: atmospheric PM, then particle counts). */
export const PM_SENSOR_POINTS = {
  pms5003: ['pm1_0', 'pm2_5', 'pm10', 'n0_3', 'n0_5', 'n1_0', 'n2_5', 'n5_0', 'n10'],
  sds011: ['pm2_5', 'pm10'],
} as const;

/** Unit of a sensor point: µg/m3 for mass concentrations, particles per 0.1 L for the counts. */
export const pmSensorUnit = (point: string): string => (point.startsWith('pm') ? 'ug/m3' : '#/0.1L');

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
