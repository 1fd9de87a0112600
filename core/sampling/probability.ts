// Consistent probability sampler: keeps the trace iff its randomness R ≥ threshold T (see
// threshold.ts). Hops configured with the same probability agree because R comes from the
// trace id (or `ot=rv`), never from a local random draw.
import {
  encodeThreshold,
  keepsHex,
  probabilityToThreshold,
  randomnessHex,
  readOt,
  splitThreshold,
  thresholdToProbability,
  writeOtThreshold,
} from './threshold.ts';
import type { HeadDecision, HeadStrategy, SamplingRequest } from './types.ts';

export class ConsistentProbabilitySampler implements HeadStrategy {
  readonly threshold: bigint | null;
  private readonly th: string | null;
  private readonly halves: { hi: number; lo: number } | null;

  constructor(
    readonly probability: number,
    precision = 4,
  ) {
    const p = Number.isFinite(probability) ? Math.min(1, Math.max(0, probability)) : 0;
    this.threshold = probabilityToThreshold(p, precision);
    this.th = this.threshold === null ? null : encodeThreshold(this.threshold);
    this.halves = splitThreshold(this.threshold);
  }

  decide(req: SamplingRequest): HeadDecision {
    const tracestate = req.parent?.tracestate ?? '';
    // Most requests carry no tracestate: no `ot` member to read.
    const r = randomnessHex(req.traceId, tracestate === '' ? null : readOt(tracestate).rv);
    const sampled = r !== null && keepsHex(r, this.halves);
    return {
      sampled,
      keptBy: sampled ? 'probability' : null,
      droppedBy: sampled ? null : 'probability',
      // Spec: a span not sampled carries no th; a sampled one records the threshold that admitted it.
      tracestate: writeOtThreshold(tracestate, sampled ? this.th : null),
    };
  }

  toString(): string {
    const eff = this.threshold === null ? 0 : thresholdToProbability(this.threshold);
    return `ConsistentProbabilitySampler{p=${this.probability}, th=${this.th ?? 'never'}, effective=${eff}}`;
  }
}
