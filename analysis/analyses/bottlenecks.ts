// Bottleneck ranking: each (service, operation)'s share of critical-path time, aggregated over
// many traces. share = Σ its critical-path section time / Σ root durations, so an operation
// that is on the path of every trace and takes half of each scores 0.5; the shares of all
// operations sum to 1. Operations that are slow but run in parallel with something slower
// (never on the path) score nothing, which is the point.
import type { Span } from '../model.ts';
import { type BatchResult, spansByTrace, type TraceError } from './batch.ts';
import { criticalPath } from './critical-path.ts';

export interface Bottleneck {
  service: string;
  operation: string;
  share: number; // 0–1 of all analysed critical-path time
  criticalUs: number; // total time on critical paths
  traces: number; // traces whose path includes it
  meanUsPerTrace: number; // criticalUs / traces
}

export function bottlenecks(spans: readonly Span[]): BatchResult<Bottleneck[]> {
  const errors: TraceError[] = [];
  const byOp = new Map<string, { service: string; operation: string; us: number; traces: number }>();
  let totalUs = 0;
  for (const [traceId, trace] of spansByTrace(spans)) {
    const r = criticalPath(trace);
    if (!r.ok) {
      errors.push({ traceId, reason: r.reason });
      continue;
    }
    totalUs += r.value.endUs - r.value.startUs;
    const seen = new Set<string>();
    for (const s of r.value.sections) {
      const key = `${s.service}\u0000${s.name}`;
      let e = byOp.get(key);
      if (!e) {
        e = { service: s.service, operation: s.name, us: 0, traces: 0 };
        byOp.set(key, e);
      }
      e.us += s.endUs - s.startUs;
      if (!seen.has(key)) {
        seen.add(key);
        e.traces++;
      }
    }
  }
  const value = [...byOp.values()]
    .map((e) => ({
      service: e.service,
      operation: e.operation,
      share: totalUs > 0 ? e.us / totalUs : 0,
      criticalUs: e.us,
      traces: e.traces,
      meanUsPerTrace: e.us / e.traces,
    }))
    .sort((a, b) => b.share - a.share || a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
  return { value, errors };
}
