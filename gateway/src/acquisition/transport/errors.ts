/**
 * Guards over the transport's error codes: what kind of failure a read ended in.
 */
import { isLantianError, type LantianError } from '../../core/errors.js';

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
