/** Building blocks shared by the site-config schema files: ids, references, secrets, hosts. */
import { z } from 'zod';
import { isTimeZone } from '../core/zone.js';

/** A number with its unit and description attached for the generated docs. */
export function num(unit: string, min: number, max: number, description: string) {
  return z.number().min(min).max(max).meta({ unit, description });
}
export function int(unit: string, min: number, max: number, description: string) {
  return z.number().int().min(min).max(max).meta({ unit, description });
}

export const ID_PATTERN = /^[a-z][a-z0-9_-]{0,47}$/;
export const Id = z
  .string()
  .regex(ID_PATTERN, 'use 1-48 lower-case letters, digits, - or _, starting with a letter');
export const PointKey = z.string().regex(/^[a-z][a-z0-9_]*$/, 'point keys are snake_case, as in the profile');
export const PointRefText = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,47}\/[a-z][a-z0-9_]*$/, 'write device/point, e.g. stack1-gas/so2')
  .meta({ description: 'A point of a device: `device/point`.' });

export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const SecretRef = z
  .object({
    secret: z
      .string()
      .regex(SECRET_NAME, 'secret names use letters, digits, _, . and -')
      .meta({ description: 'Name of the entry in the secrets file.' }),
  })
  .strict()
  .meta({ description: 'A value kept in the secrets file, written `{ secret: name }`.' });
export type SecretRef = z.output<typeof SecretRef>;

export { isTimeZone };

export const TimeZone = z.string().refine(isTimeZone, 'not an IANA time zone such as Asia/Shanghai');

export const Host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:[\]_-]+$/, 'a host name or IP address, without scheme or path')
  .refine((h) => h.split(':').length !== 2, 'the port goes in port, not in host')
  .meta({ description: 'Host name or IP address.' });
