// RED metrics (Rate, Errors, Duration) per service and operation from entry spans, with
// every count weighted by the span's sampling weight (sampling-weight.ts), so a 1-in-4
// sampled stream still reports the real request count. Durations form a cumulative
// histogram in seconds with Prometheus-style `le` buckets.
import type { Span } from '../model.ts';
import { isEntrySpan } from './error-rates.ts';
import { samplingWeight } from './sampling-weight.ts';
import { spanFailed } from './span-failed.ts';

export const DEFAULT_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RedMetric {
  service: string;
  operation: string;
  requests: number; // sampling-adjusted
  errors: number; // sampling-adjusted
  sampledSpans: number; // actually seen
  durationSumS: number; // sampling-adjusted
  /** Cumulative adjusted counts per upper bound (same order as `bucketsS`), then +Inf = requests. */
  bucketCounts: number[];
  bucketsS: number[];
}

export interface RedMetrics {
  metrics: RedMetric[];
  invalidWeights: number;
  startUs: number;
  endUs: number;
}

export function redMetrics(spans: readonly Span[], bucketsS: readonly number[] = DEFAULT_BUCKETS_S): RedMetrics {
  const buckets = [...bucketsS].sort((a, b) => a - b);
  const by = new Map<string, RedMetric>();
  let invalidWeights = 0;
  let startUs = Number.POSITIVE_INFINITY;
  let endUs = Number.NEGATIVE_INFINITY;
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    const w = samplingWeight(s);
    if (w.invalid) invalidWeights++;
    const key = `${s.service}\u0000${s.name}`;
    let m = by.get(key);
    if (!m) {
      m = {
        service: s.service,
        operation: s.name,
        requests: 0,
        errors: 0,
        sampledSpans: 0,
        durationSumS: 0,
        bucketCounts: buckets.map(() => 0),
        bucketsS: buckets,
      };
      by.set(key, m);
    }
    const d = (s.endUs - s.startUs) / 1e6;
    m.requests += w.weight;
    m.sampledSpans++;
    if (spanFailed(s)) m.errors += w.weight;
    m.durationSumS += d * w.weight;
    for (let i = 0; i < buckets.length; i++) if (d <= buckets[i]!) m.bucketCounts[i]! += w.weight;
    startUs = Math.min(startUs, s.startUs);
    endUs = Math.max(endUs, s.endUs);
  }
  const metrics = [...by.values()].sort(
    (a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation),
  );
  return { metrics, invalidWeights, startUs, endUs };
}
