// Offline linking of traces broken by services that forward no trace context (README.md).
export * from './assign.ts';
export * from './attributes.ts';
export * from './call-model.ts';
export { assignGreedy } from './greedy.ts';
export { type Detach, relink, type RelinkResult } from './relink.ts';
export { type LinkWindowOptions, type LinkWindowResult, linkWindow } from './link-window.ts';
export { type GroundTruth, type LinkingScore, REQUEST_ID, scoreLinking } from './score.ts';
export { type ChainAssignment, type ChainAssignOptions, type ChainUnlinked, assignByChains } from './assign-chains.ts';
export { type ChainModel, learnChainModel } from './chain-model.ts';
