/**
 * Who may see the page. With a password set, every request needs it: as HTTP Basic (any user
 * name; the browser asks once and resends it, also for the event stream) or as a bearer token
 * (scripts). Without one, the config only allows a loopback address, and requests from
 * anywhere but this machine are refused as well, in case a port forward exposes it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = 'ok' | 'missing' | 'wrong' | 'remote';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The password sent in an Authorization header, Basic or Bearer; undefined when there is none. */
export function presentedSecret(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!scheme || value === undefined) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export const isLoopbackAddress = (ip: string): boolean =>
  ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');

/**
 * Compares digests, so the time taken says nothing about the password (not even its length).
 */
export function checkRequest(
  password: string | undefined,
  header: string | undefined,
  remoteIp: string,
): AuthResult {
  if (password === undefined) return isLoopbackAddress(remoteIp) ? 'ok' : 'remote';
  const given = presentedSecret(header);
  if (given === undefined) return 'missing';
  return timingSafeEqual(digest(given), digest(password)) ? 'ok' : 'wrong';
}
