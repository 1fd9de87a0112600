// Shared OpenTelemetry SDK setup for the Node parts (gateway plugins, ext_proc service):
//
//   span end ─→ DeferredDecisionProcessor (per-request hold, final sampling decision)
//            ─→ BoundedAdmission (≤ max_queue_size spans in flight, else counted drop)
//            ─→ BatchSpanProcessor (bounded queue, timer + batch-size flush)
//            ─→ CountingExporter ─→ OTLP/HTTP protobuf exporter → `otlp_url`
//               (the SDK's transport; DeferredSpans serialized by otlp-span-encoder.ts)
//
// The SDK sampler always records (the decision is ours, made at response time); the head
// decision's tracestate (ot=th) is handed to the SDK through the context so the span carries it.
import {
  type Context,
  createContextKey,
  createTraceState,
  type Link,
  type SpanKind,
  type Attributes,
  type Tracer,
  type TraceState,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import type { InstrumentationScope } from '@opentelemetry/core';
import { BoundedAdmission, CountingExporter, type ExportCounters } from './counting-exporter.ts';
import { DeferredSpan, type SpanRecord } from './finished-span.ts';
import { otlpHttpSpanExporter } from './otlp-http-exporter.ts';
import { type DecisionCounters, DeferredDecisionProcessor } from './deferred-decision-processor.ts';

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpUrl: string;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMs?: number;
  exportTimeoutMs?: number;
}

export interface Tracing {
  tracer: Tracer;
  /**
   * A kept span with this provider's resource, scope and limits, built without an SDK Span from
   * `record` when the exporter first reads it (finished-span.ts DeferredSpan): for hosts that
   * only create spans once a request is decided and over.
   */
  defer(traceId: string, spanId: string, traceState: TraceState | undefined, record: SpanRecord): ReadableSpan;
  /** Exports spans whose request was kept (counted as kept; admitted under max_queue_size). */
  exportKept(spans: readonly ReadableSpan[]): void;
  /** A TraceState for a tracestate string (the last one is reused: a kept rate writes the same one). */
  traceState(tracestate: string): TraceState;
  /**
   * The ids the next span started (synchronously, right after) will get: `traceId` applies
   * only to a root span (a child inherits its parent's). A head sampler decides from the trace
   * id, and outbound headers carry the span id, before the span object exists — so meshtrace
   * chooses ids first and creates spans only for requests it keeps.
   */
  presetIds(traceId: string | null, spanId: string | null): void;
  provider: BasicTracerProvider;
  counters(): { decisions: DecisionCounters; export: ExportCounters };
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const TRACESTATE_KEY = createContextKey('meshtrace.head-tracestate');

const SPAN_LIMITS: SpanLimits = {
  attributeCountLimit: 64,
  attributeValueLengthLimit: 1024,
  linkCountLimit: 8,
  attributePerLinkCountLimit: 64,
  eventCountLimit: 32,
};

/** Returns `ctx` carrying the W3C tracestate the next span started in it should record. */
export function withSpanTraceState(ctx: Context, tracestate: string): Context {
  return ctx.setValue(TRACESTATE_KEY, tracestate);
}

class RecordAllSampler implements Sampler {
  // Consecutive kept spans mostly carry the same tracestate (`ot=th:…` of the configured rate):
  // parse it once, not per span. A TraceState is immutable (set/unset return new ones).
  private lastTracestate = '';
  private lastTraceState: TraceState | null = null;

  traceState(ts: string): TraceState {
    if (this.lastTraceState === null || ts !== this.lastTracestate) {
      this.lastTraceState = createTraceState(ts);
      this.lastTracestate = ts;
    }
    return this.lastTraceState;
  }

  shouldSample(
    ctx: Context,
    _traceId: string,
    _name: string,
    _kind: SpanKind,
    _attrs: Attributes,
    _links: Link[],
  ): SamplingResult {
    const ts = ctx.getValue(TRACESTATE_KEY);
    if (typeof ts === 'string') {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED, traceState: this.traceState(ts) };
    }
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return 'RecordAllSampler{decision deferred to meshtrace}';
  }
}

/** Random ids, except ids preset for the very next span. */
class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  nextTrace: string | null = null;
  nextSpan: string | null = null;

  generateTraceId(): string {
    const id = this.nextTrace;
    this.nextTrace = null;
    return id ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    const id = this.nextSpan;
    this.nextSpan = null;
    return id ?? this.random.generateSpanId();
  }
}

export function startTracing(o: TracingOptions): Tracing {
  const ids = new PresetIdGenerator();
  const maxQueueSize = o.maxQueueSize ?? 2048;
  const exporter = new CountingExporter(otlpHttpSpanExporter(o.otlpUrl, o.exportTimeoutMs ?? 10000));
  const batch = new BatchSpanProcessor(exporter, {
    maxQueueSize,
    maxExportBatchSize: Math.min(o.maxExportBatchSize ?? 512, maxQueueSize),
    scheduledDelayMillis: o.scheduledDelayMs ?? 1000,
    exportTimeoutMillis: o.exportTimeoutMs ?? 10000,
  });
  const decisions = new DeferredDecisionProcessor(new BoundedAdmission(batch, exporter, maxQueueSize));
  const resource = resourceFromAttributes({ 'service.name': o.serviceName });
  const sampler = new RecordAllSampler();
  const provider = new BasicTracerProvider({
    resource,
    sampler,
    idGenerator: ids,
    spanProcessors: [decisions],
    spanLimits: SPAN_LIMITS,
  });
  const tracer = provider.getTracer('meshtrace');
  // The SDK tracer's scope, so finished spans group with SDK ones in an export.
  const scope: InstrumentationScope = (tracer as unknown as { instrumentationScope: InstrumentationScope })
    .instrumentationScope ?? { name: 'meshtrace' };
  return {
    tracer,
    defer: (traceId, spanId, traceState, record) =>
      new DeferredSpan(traceId, spanId, traceState, record, resource, scope, SPAN_LIMITS),
    exportKept: (spans) => decisions.forwardKept(spans),
    traceState: (ts) => sampler.traceState(ts),
    presetIds: (traceId, spanId) => {
      ids.nextTrace = traceId;
      ids.nextSpan = spanId;
    },
    provider,
    counters: () => ({ decisions: { ...decisions.counters }, export: { ...exporter.counters } }),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
