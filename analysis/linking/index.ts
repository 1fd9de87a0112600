// Offline linking of traces broken by services that forward no trace context (README.md).
export * from './assign.ts';
export * from './attributes.ts';
export * from './call-model.ts';
export { assignGreedy } from './greedy.ts';
export { relink, type RelinkResult } from './relink.ts';
