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

// analyses (part B)
export { type Bottleneck, bottlenecks } from './analyses/bottlenecks.ts';
export {
  type CriticalPath,
  type CriticalPathResult,
  type CriticalPathSection,
  criticalPath,
} from './analyses/critical-path.ts';
