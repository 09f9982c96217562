export * from './log.js';
export * from './records.js';
export * from './cursors.js';
export * from './ranges.js';
export { SCHEMA_VERSION, APPLICATION_ID } from './schema.js';
export type { RetentionOptions } from './retention.js';
export { peekLog, type LogPeek } from './peek.js';
