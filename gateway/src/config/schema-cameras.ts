/** The `cameras` section: site cameras whose snapshots become blobs in the log (docs/cameras.md). */
import { z } from 'zod';
import { Id, int, SecretRef } from './schema-parts.js';

export const Camera = z
  .object({
    protocol: z.enum(['hikvision', 'dahua', 'onvif']).meta({
      description:
        'How to ask for a picture: hikvision (ISAPI /ISAPI/Streaming/channels/<channel>01/picture), dahua (CGI /cgi-bin/snapshot.cgi?channel=<channel>), or onvif (GetSnapshotUri, then that URL); all with HTTP digest authentication.',
    }),
    url: z
      .string()
      .regex(
        /^https?:\/\/[^/\s@]+\/?$/,
        'write http://host or http://host:port, without a path or credentials',
      )
      .meta({
        description: 'The camera: http://host[:port] (https:// for cameras with a trusted certificate).',
      }),
    channel: int('', 1, 64, 'Video channel (hikvision, dahua).').default(1),
    onvifPath: z
      .string()
      .regex(/^\/\S*$/, 'a path starting with /')
      .default('/onvif/device_service')
      .meta({ description: 'onvif: path of the device service.' }),
    profileToken: z.string().min(1).optional().meta({
      description: 'onvif: media profile whose snapshot to take. Absent: the first the camera lists.',
    }),
    username: z.string().min(1).default('admin').meta({ description: 'Camera user name.' }),
    password: SecretRef.meta({ description: 'Secret holding the camera password.' }),
    timeoutMs: int(
      'ms',
      500,
      120_000,
      'The whole answer (connect to last byte) must come within this; a hung or trickling camera is cut off.',
    ).default(10_000),
    maxBytes: int(
      'bytes',
      1024,
      20 * 1024 * 1024,
      'Largest picture taken; a bigger answer is refused.',
    ).default(2 * 1024 * 1024),
    everyS: int('s', 0, 86_400, 'A snapshot every this many seconds; 0: none on a schedule.').default(0),
    onEvents: z.array(z.string().min(1)).default(['exceedance']).meta({
      description:
        'Event kinds in the log that take a snapshot when raised (payload state "raised", or no state), e.g. exceedance, alarm, tamper. Empty: none.',
    }),
    devices: z
      .array(Id)
      .optional()
      .meta({ description: 'Only events that name one of these devices. Absent: events of any device.' }),
    minGapS: int(
      's',
      0,
      86_400,
      'Event snapshots of this camera closer together than this are skipped (an alarm storm takes one picture).',
    ).default(60),
  })
  .strict();
export type CameraConfig = z.output<typeof Camera>;

export const Cameras = z.record(Id, Camera).default({}).meta({
  description:
    'Site cameras, keyed by camera id; snapshots are stored in the log and forwarded on blob/snapshot.',
});
