export * from './schema.js';
export * from './problems.js';
export * from './secrets.js';
export * from './migrations.js';
export * from './migrate-file.js';
export * from './loader.js';
export * from './plan.js';
export * from './unsupported.js';
export { closest, didYouMean } from './suggest.js';
