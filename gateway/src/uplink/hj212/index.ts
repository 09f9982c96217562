export * from './crc.js';
export * from './packet.js';
export * from './build.js';
export * from './parse.js';
export * from './stream.js';
export * from './split.js';
export * from './sm4.js';
export * from './time.js';
