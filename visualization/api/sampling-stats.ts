// Sampling statistics over stored traces: what was kept and why, and an estimate of what was
// dropped. A kept trace's root carries its sampling weight (1 / probability, from `ot=th` or
// the threshold/probability attributes — analysis/analyses/sampling-weight.ts), so the traces
// it stands for but that were not stored number weight − 1. The reason a trace was kept is
// `meshtrace.sampling.kept_by` on the root (core/sampling KeptBy), "unrecorded" without it.
import { samplingWeight } from '../../analysis/analyses/sampling-weight.ts';
import type { Span } from '../../analysis/model.ts';

export interface SamplingStats {
  keptTraces: number;
  /** Estimated requests the kept traces stand for (Σ root weights). */
  estimatedTraces: number;
  /** estimatedTraces − keptTraces: traces dropped by probability sampling, estimated. */
  estimatedDropped: number;
  keptBy: Record<string, number>;
  /** Kept traces by where their weight came from (tracestate, attributes, none). */
  weightSource: Record<string, number>;
  /** Kept traces and estimated drops per sampling probability. */
  byProbability: Array<{ probability: number; kept: number; estimatedDropped: number }>;
  invalidWeights: number;
}

export const KEPT_BY_ATTRIBUTE = 'meshtrace.sampling.kept_by';

export function samplingStats(spans: readonly Span[]): SamplingStats {
  const stats: SamplingStats = {
    keptTraces: 0,
    estimatedTraces: 0,
    estimatedDropped: 0,
    keptBy: {},
    weightSource: {},
    byProbability: [],
    invalidWeights: 0,
  };
  const byP = new Map<number, { probability: number; kept: number; estimatedDropped: number }>();
  for (const s of spans) {
    if (s.parentSpanId !== null) continue;
    const w = samplingWeight(s);
    if (w.invalid) stats.invalidWeights++;
    stats.keptTraces++;
    stats.estimatedTraces += w.weight;
    const reason = s.attributes[KEPT_BY_ATTRIBUTE];
    const by = typeof reason === 'string' && reason !== '' ? reason : 'unrecorded';
    stats.keptBy[by] = (stats.keptBy[by] ?? 0) + 1;
    stats.weightSource[w.source] = (stats.weightSource[w.source] ?? 0) + 1;
    const probability = 1 / w.weight;
    let e = byP.get(probability);
    if (!e) {
      e = { probability, kept: 0, estimatedDropped: 0 };
      byP.set(probability, e);
    }
    e.kept++;
    e.estimatedDropped += w.weight - 1;
  }
  stats.estimatedDropped = stats.estimatedTraces - stats.keptTraces;
  stats.byProbability = [...byP.values()].sort((a, b) => a.probability - b.probability);
  return stats;
}
