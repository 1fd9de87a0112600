// Honours a trusted inbound decision: the caller's sampled flag, with its `ot=th` kept so the
// adjusted count stays known. Delegates when the caller made no decision. Only reached when
// the trust boundary let the inbound context through (internal listener or valid debug token).
import { readOt, writeOtThreshold } from './threshold.ts';
import type { HeadDecision, HeadStrategy, SamplingRequest } from './types.ts';

export class ParentSampler implements HeadStrategy {
  decide(req: SamplingRequest): HeadDecision | null {
    const parent = req.parent;
    if (parent === null || parent.sampled === null) return null;
    const th = readOt(parent.tracestate).th;
    if (parent.sampled) {
      return { sampled: true, keptBy: 'parent', droppedBy: null, tracestate: parent.tracestate };
    }
    return {
      sampled: false,
      keptBy: null,
      droppedBy: 'parent',
      tracestate: th === null ? parent.tracestate : writeOtThreshold(parent.tracestate, null),
    };
  }

  toString(): string {
    return 'ParentSampler{}';
  }
}
