import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/** Namespaces used across the gateway; a child logger carries one as `ns`. */
export type LogNamespace =
  'acq' | 'bus' | 'store' | 'mqtt' | 'hj212' | 'api' | 'config' | 'sim' | 'cli' | 'demo' | 'camera';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'pw',
  '*.pw',
];

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.LANTIAN_LOG_LEVEL ?? 'info',
    name: options.name ?? 'lantian',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

export function childLogger(
  parent: Logger,
  ns: LogNamespace,
  bindings: Record<string, unknown> = {},
): Logger {
  return parent.child({ ns, ...bindings });
}

/** A logger that writes nothing, for tests and library use without a host logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
