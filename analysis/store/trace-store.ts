// The storage seam. Readers (analyses, the query API, the UI) depend on TraceReader only, the
// collector on TraceWriter only, so a deployment with its own trace storage can plug in a reader
// over Jaeger's query API (see analysis/README.md "Reading from Jaeger") while small ones use the
// embedded DuckDB store, which implements both.
import type { AttributeValue, Span, SpanKind } from '../model.ts';

/** Jaeger FindTraces semantics: a trace matches when one of its spans meets every condition. */
export interface TraceQuery {
  service?: string;
  operation?: string;
  /** Span attribute or resource attribute equal to the value (compared as text); `error: true` also matches status error. */
  tags?: Record<string, string | number | boolean>;
  minDurationUs?: number;
  maxDurationUs?: number;
  /** Span start time window [startUs, endUs). */
  startUs?: number;
  endUs?: number;
  /** Most traces returned, newest first (default 20, at most 1000). */
  limit?: number;
}

export interface TraceSummary {
  traceId: string;
  spans: Span[];
}

export interface Operation {
  name: string;
  kind: SpanKind;
}

export interface TraceReader {
  /** All spans of the trace ordered by start time; [] when unknown. */
  getTrace(traceId: string): Promise<Span[]>;
  findTraces(query: TraceQuery): Promise<TraceSummary[]>;
  services(): Promise<string[]>;
  operations(service: string): Promise<Operation[]>;
  /**
   * Whole traces for analyses: every span of each trace whose earliest span starts in
   * [startUs, endUs), ordered by trace then start time; at most `limitSpans` spans (whole traces
   * only — a trace that would cross the limit is left out and counted in `truncatedTraces`).
   */
  spansInWindow(window: { startUs: number; endUs: number; limitSpans?: number }): Promise<{
    spans: Span[];
    truncatedTraces: number;
  }>;
}

export interface RetentionPolicy {
  /** Traces whose last span ended longer ago than this are deleted. */
  maxAgeMs?: number;
  /** Oldest traces are deleted until the stored span data (see StoreStats.bytes) fits. */
  maxBytes?: number;
}

export interface RetentionResult {
  deletedTraces: number;
  deletedSpans: number;
}

export interface StoreStats {
  spans: number;
  traces: number;
  /** Approximate stored span data: the encoded size of each span's fields, summed. */
  bytes: number;
}

/** A stored span moved by the offline linker: new trace, parent and attributes. */
export interface SpanRelink {
  traceId: string;
  spanId: string;
  newTraceId: string;
  parentSpanId: string | null;
  attributes: Record<string, AttributeValue>;
}

export interface TraceWriter {
  /**
   * From the collector, spans decoded from OTLP protobuf arrive as SpanRows (span-row.ts): Spans
   * whose JSON parts are parsed on first access — read their properties, do not spread them.
   */
  append(spans: readonly Span[]): Promise<void>;
  /**
   * Rewrites where spans sit (analysis/linking: a call re-parented, its subtree moved into the
   * parent's trace). Optional: a store over another system's storage (Jaeger) cannot. Returns
   * the spans changed.
   */
  relinkSpans?(changes: readonly SpanRelink[]): Promise<number>;
  enforceRetention(policy: RetentionPolicy, nowUs?: number): Promise<RetentionResult>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}

export interface TraceStore extends TraceReader, TraceWriter {}

export type { AttributeValue };
