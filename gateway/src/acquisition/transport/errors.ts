/**
 * modbus-serial reports everything as plain Errors distinguished by message text, errno or
 * `modbusCode`; this maps them onto LantianError codes once, at the edge.
 */
import { LantianError, isLantianError, type ErrorContext } from '../../core/errors.js';

interface LibraryError {
  message?: unknown;
  errno?: unknown;
  code?: unknown;
  modbusCode?: unknown;
}

export function mapLibraryError(err: unknown, context: ErrorContext): LantianError {
  if (isLantianError(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as LibraryError;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') {
    return new LantianError('MODBUS_EXCEPTION', `device answered Modbus exception ${e.modbusCode}`, {
      cause: err,
      context: { ...context, exceptionCode: e.modbusCode },
    });
  }
  if (message === 'Timed out' || e.errno === 'ETIMEDOUT') {
    return new LantianError('TRANSPORT_TIMEOUT', 'no complete answer within the timeout', {
      cause: err,
      context,
    });
  }
  if (message === 'CRC error') {
    return new LantianError('MODBUS_CRC', 'reply failed its CRC check', { cause: err, context });
  }
  if (message.startsWith('Data length error') || message.startsWith('Unexpected data error')) {
    return new LantianError('MODBUS_BAD_REPLY', `malformed reply: ${message}`, { cause: err, context });
  }
  return new LantianError('TRANSPORT_CLOSED', `link failed: ${message}`, { cause: err, context });
}

export const isModbusException = (e: unknown, exceptionCode?: number): e is LantianError =>
  isLantianError(e, 'MODBUS_EXCEPTION') &&
  (exceptionCode === undefined || e.context.exceptionCode === exceptionCode);

/** The device did not answer, or the link is down: nothing came back at all. */
export const isNoAnswer = (e: unknown): e is LantianError =>
  isLantianError(e, 'TRANSPORT_TIMEOUT') ||
  isLantianError(e, 'TRANSPORT_CLOSED') ||
  isLantianError(e, 'TRANSPORT_CONNECT_FAILED');

/** The link itself failed, not one device: closed or never opened. */
export const isLinkDown = (e: unknown): e is LantianError =>
  isLantianError(e, 'TRANSPORT_CLOSED') || isLantianError(e, 'TRANSPORT_CONNECT_FAILED');

/** Something came back but was corrupt or did not fit the request. */
export const isGarbled = (e: unknown): e is LantianError =>
  isLantianError(e, 'MODBUS_CRC') || isLantianError(e, 'MODBUS_BAD_REPLY');
