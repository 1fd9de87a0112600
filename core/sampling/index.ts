// Public entry of the sampling core (mirrored by the AS filter — see README.md).
export { CostCap, TokenBucket } from './cost-cap.ts';
export { DebugSampler, jwtClaim } from './debug.ts';
export { signDebugToken, verifyDebugToken } from './debug-token.ts';
export { EdgeSampler, type SamplingCounters } from './edge-sampler.ts';
export { ParentSampler } from './parent.ts';
export { ConsistentProbabilitySampler } from './probability.ts';
export { responseKeep } from './response.ts';
export { RuleSampler } from './rules.ts';
export { ConfigError, parseSamplingConfig, samplingSchema, type SamplingConfig } from './schema.ts';
export * from './threshold.ts';
export { assessTrust, type ExtractedContext, type TrustVerdict } from './trust.ts';
export type * from './types.ts';
