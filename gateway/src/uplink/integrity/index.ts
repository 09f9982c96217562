export * from './keys.js';
export * from './seal.js';
export * from './verify.js';
