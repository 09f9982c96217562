export * from './schema.js';
export * from './units.js';
export * from './loader.js';
export * from './lint.js';
export * from './json-schema.js';
export * from './devices-doc.js';
