// The composed sampler a proxy hop runs. Head strategies are tried in priority order, each
// deciding or delegating:
//
//   debug (trusted only) → rules (first match) → parent (trusted inbound flag) → probability
//                                   │
//                        cost cap on every keep but debug
//
// At response time `final()` keeps a head-dropped span on error or latency (cost cap applies
// again, one token per request at most). Counters are plain numbers the host exports as metrics.
import { CostCap } from './cost-cap.ts';
import { DebugSampler } from './debug.ts';
import { ParentSampler } from './parent.ts';
import { ConsistentProbabilitySampler } from './probability.ts';
import { responseKeep } from './response.ts';
import { RuleSampler } from './rules.ts';
import type { SamplingConfig } from './schema.ts';
import { writeOtThreshold } from './threshold.ts';
import type { FinalDecision, HeadDecision, HeadStrategy, KeptBy, Outcome, SamplingRequest } from './types.ts';

export interface SamplingCounters {
  requests: number;
  kept: Record<KeptBy, number>;
  dropped: { rule: number; parent: number; probability: number; cost_cap: number };
}

export class EdgeSampler {
  readonly strategies: HeadStrategy[];
  readonly costCap: CostCap | null;
  readonly counters: SamplingCounters = {
    requests: 0,
    kept: { debug: 0, rule: 0, parent: 0, probability: 0, error: 0, latency: 0 },
    dropped: { rule: 0, parent: 0, probability: 0, cost_cap: 0 },
  };

  constructor(readonly config: SamplingConfig) {
    this.strategies = [
      new DebugSampler(config.debug),
      new RuleSampler(config.rules, config.precision),
      new ParentSampler(),
      new ConsistentProbabilitySampler(config.probability, config.precision),
    ];
    this.costCap = config.costCap === null ? null : new CostCap(config.costCap);
  }

  private capKey(req: SamplingRequest): string {
    return this.config.costCap?.per === 'service' ? (req.service ?? '') : (req.route ?? req.path);
  }

  head(req: SamplingRequest): HeadDecision {
    this.counters.requests++;
    let d: HeadDecision | null = null;
    for (const s of this.strategies) {
      d = s.decide(req);
      if (d !== null) break;
    }
    // The probability sampler never delegates, so d is set; the fallback keeps types honest.
    d ??= { sampled: false, keptBy: null, droppedBy: 'probability', tracestate: req.parent?.tracestate ?? '' };
    if (d.sampled && d.keptBy !== 'debug' && this.costCap !== null) {
      if (!this.costCap.admit(this.capKey(req), req.nowMs ?? Date.now())) {
        d = { sampled: false, keptBy: null, droppedBy: 'cost_cap', tracestate: writeOtThreshold(d.tracestate, null) };
      }
    }
    return d;
  }

  /** The response-time decision for this hop's span; call once per request after head(). */
  final(req: SamplingRequest, head: HeadDecision, outcome: Outcome): FinalDecision {
    let result: FinalDecision;
    if (head.sampled) {
      result = { sampled: true, keptBy: head.keptBy, droppedBy: null };
    } else {
      const why = responseKeep(outcome, this.config.error, this.config.latency, req.path, req.route);
      if (why !== null && (this.costCap === null || this.costCap.admit(this.capKey(req), req.nowMs ?? Date.now()))) {
        result = { sampled: true, keptBy: why, droppedBy: null };
      } else {
        result = { sampled: false, keptBy: null, droppedBy: why !== null ? 'cost_cap' : head.droppedBy };
      }
    }
    if (result.keptBy !== null) this.counters.kept[result.keptBy]++;
    else if (result.droppedBy !== null) this.counters.dropped[result.droppedBy]++;
    return result;
  }

  toString(): string {
    return `EdgeSampler{trust=${this.config.trust.boundary}/${this.config.trust.inboundContext}, ${this.strategies.join(' → ')}${this.costCap ? `, ${this.costCap}` : ''}}`;
  }
}
