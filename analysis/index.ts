// Public entry of analysis/: the collector (OTLP receivers + store), the store seam, the OTLP
// conversion and the analyses over the span model.
export type { AttributeValue, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from './model.ts';
export { durationUs } from './model.ts';

export { type Collector, type CollectorStats, startCollector } from './collector/collector.ts';
export type { CollectorOptions } from './collector/options.ts';

export type {
  Operation,
  RetentionPolicy,
  RetentionResult,
  StoreStats,
  TraceQuery,
  TraceReader,
  TraceStore,
  TraceSummary,
  TraceWriter,
} from './store/trace-store.ts';
export { DATABASE_FILE, DuckDBTraceStore, type DuckDBStoreOptions, openDuckDBStore } from './store/duckdb-store.ts';

export { type Conversion, toSpans } from './otlp/to-spans.ts';
export { decodeJsonRequest, decodeProtobufRequest } from './otlp/codec.ts';
export { DEFAULT_SPAN_LIMITS, type SpanLimits } from './otlp/limits.ts';

// analyses (part B) and the workload generator
export * from './analyses/batch.ts';
export * from './analyses/bottlenecks.ts';
export * from './analyses/capacity.ts';
export * from './analyses/critical-path.ts';
export * from './analyses/dependency-map.ts';
export * from './analyses/error-origin.ts';
export * from './analyses/error-patterns.ts';
export * from './analyses/error-rates.ts';
export * from './analyses/error-template.ts';
export * from './analyses/latency-breakdown.ts';
export * from './analyses/latency-correlations.ts';
export * from './analyses/prometheus-text.ts';
export * from './analyses/recovery-times.ts';
export * from './analyses/red-metrics.ts';
export * from './analyses/regressions.ts';
export * from './analyses/sampling-weight.ts';
export * from './analyses/skew-adjustment.ts';
export * from './analyses/span-failed.ts';
export * from './analyses/span-source.ts';
export * from './analyses/store-span-source.ts';
export * from './analyses/timeline-tree.ts';
export * from './analyses/alerts/alert-engine.ts';
export * from './analyses/alerts/evaluate-rule.ts';
export * from './analyses/alerts/rules.ts';
export * from './analyses/alerts/webhook.ts';
export * from './generate/workload.ts';
export * from './generate/workload-files.ts';
