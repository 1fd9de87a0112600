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
export { type BatchResult, spansByTrace, type TraceError } from './analyses/batch.ts';
export { type CapacityPoint, capacity, type ServiceCapacity } from './analyses/capacity.ts';
export { type DependencyEdge, dependencyMap } from './analyses/dependency-map.ts';
export { type ErrorOrigin, errorOrigin, errorOrigins } from './analyses/error-origin.ts';
export { type ErrorPattern, errorPatterns } from './analyses/error-patterns.ts';
export { errorRates, type ServiceErrorRate } from './analyses/error-rates.ts';
export { errorTemplate } from './analyses/error-template.ts';
export { latencyBreakdown, type OperationLatency } from './analyses/latency-breakdown.ts';
export { type LatencyCorrelation, latencyCorrelations } from './analyses/latency-correlations.ts';
export { prometheusText } from './analyses/prometheus-text.ts';
export { type ErrorEpisode, recoveryTimes, type ServiceRecovery } from './analyses/recovery-times.ts';
export { type RedMetric, type RedMetrics, redMetrics } from './analyses/red-metrics.ts';
export { type Regression, type RegressionSplit, regressions } from './analyses/regressions.ts';
export { samplingWeight, thresholdToProbability } from './analyses/sampling-weight.ts';
export { spanFailed } from './analyses/span-failed.ts';
export { FileSpanSource, MemorySpanSource, type SpanQuery, type SpanSource } from './analyses/span-source.ts';
export { StoreSpanSource } from './analyses/store-span-source.ts';
export { AlertEngine } from './analyses/alerts/alert-engine.ts';
export { type AlertConfig, AlertConfigError, type AlertRule, parseAlertRules } from './analyses/alerts/rules.ts';
export type { AlertNotification } from './analyses/alerts/webhook.ts';

// workload generator (part B)
export { defaultTopology, type Topology } from './generate/topology.ts';
export {
  defaultWorkloadOptions,
  type GroundTruth,
  generateWorkload,
  type Workload,
  type WorkloadOptions,
} from './generate/workload.ts';
export { toReadableSpans } from './generate/readable-spans.ts';
export { writeWorkload } from './generate/workload-files.ts';
