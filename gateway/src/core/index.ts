export * from './flags.js';
export * from './reading.js';
export * from './errors.js';
export * from './clock.js';
export * from './logger.js';
export * from './yaml.js';
export * from './suggest.js';
