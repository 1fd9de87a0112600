// The OpenTelemetry SDK behind this service's spans: a tracer provider (not registered globally —
// the service owns its provider), a sampler deciding at the head, and a processor that exports
// what the head kept plus — error-biased keep — head-dropped spans whose request failed.
//
//   head: parent sampled flag when a parent exists, else ratio on the trace id's low 56 bits
//         (the W3C level-2 random part) ─ dropped spans are still RECORDED (not sampled) …
//   end:  … so at end a 5xx / ERROR status can still export them (kept_by=error).
//
// Export is bounded: at most otlp.maxQueueSize spans wait; beyond that spans are dropped and
// counted, never buffered without limit and never blocking a request.
import {
  type Attributes,
  type Context,
  type Link,
  type SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Tracer } from '@opentelemetry/api';
import type { ServiceConfig } from './config.ts';
import type { Metrics } from './metrics.ts';

export class HeadSampler implements Sampler {
  private readonly bound: bigint;
  constructor(
    private readonly ratio: number,
    private readonly recordDropped: boolean,
  ) {
    this.bound = BigInt(Math.floor(ratio * 2 ** 56));
  }

  shouldSample(ctx: Context, traceId: string, _n: string, _k: SpanKind, _a: Attributes, _l: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    let keep: boolean;
    if (parent && trace.isSpanContextValid(parent)) keep = (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
    else keep = this.ratio >= 1 || BigInt(`0x${traceId.slice(18)}`) < this.bound;
    if (keep) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return { decision: this.recordDropped ? SamplingDecision.RECORD : SamplingDecision.NOT_RECORD };
  }

  toString() {
    return `HeadSampler{parent flag, else ratio=${this.ratio}; record dropped=${this.recordDropped}}`;
  }
}

/** True when the span describes a failed request (status ERROR or an HTTP 5xx). */
export function isError(span: ReadableSpan): boolean {
  if (span.status.code === SpanStatusCode.ERROR) return true;
  const s = span.attributes['http.response.status_code'];
  return typeof s === 'number' && s >= 500;
}

/** Wraps the batch processor: head-kept spans pass, failed head-dropped spans are promoted. */
class KeepProcessor implements SpanProcessor {
  constructor(
    private readonly next: SpanProcessor,
    private readonly metrics: Metrics,
    private readonly keepErrors: boolean,
    private readonly maxQueued: number,
    private readonly queued: { n: number },
  ) {}

  onStart(span: Span, ctx: Context) {
    this.next.onStart(span, ctx);
  }

  onEnd(span: ReadableSpan) {
    let out = span;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) {
      if (!this.keepErrors || !isError(span)) return;
      this.metrics.inc('spans_kept_by_error_total');
      const sc = { ...span.spanContext(), traceFlags: span.spanContext().traceFlags | TraceFlags.SAMPLED };
      const attributes = { ...span.attributes, 'meshtrace.sampling.kept_by': 'error' };
      out = new Proxy(span, {
        get(target, prop, receiver) {
          if (prop === 'spanContext') return () => sc;
          if (prop === 'attributes') return attributes;
          return Reflect.get(target, prop, receiver);
        },
      });
    }
    if (this.queued.n >= this.maxQueued) {
      this.metrics.inc('spans_dropped_total');
      return;
    }
    this.queued.n++;
    this.next.onEnd(out);
  }

  forceFlush() {
    return this.next.forceFlush();
  }

  shutdown() {
    return this.next.shutdown();
  }
}

/** Counts what actually left the process and releases queue slots. */
class CountingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly metrics: Metrics,
    private readonly queued: { n: number },
  ) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]) {
    this.inner.export(spans, (result) => {
      this.queued.n = Math.max(0, this.queued.n - spans.length);
      if (result.code === ExportResultCode.SUCCESS) this.metrics.inc('spans_exported_total', spans.length);
      else this.metrics.inc('spans_dropped_total', spans.length);
      done(result);
    });
  }

  shutdown() {
    return this.inner.shutdown();
  }

  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface Telemetry {
  tracer: Tracer;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Builds the provider from config. Without otlp.endpoint spans are recorded but not exported. */
export function startTelemetry(cfg: ServiceConfig, metrics: Metrics, exporter?: SpanExporter): Telemetry {
  const queued = { n: 0 };
  const processors: SpanProcessor[] = [];
  const inner =
    exporter ??
    (cfg.otlp.endpoint === undefined
      ? undefined
      : new OTLPTraceExporter({ url: cfg.otlp.endpoint, timeoutMillis: 5000 }));
  if (inner) {
    const batch = new BatchSpanProcessor(new CountingExporter(inner, metrics, queued), {
      maxQueueSize: cfg.otlp.maxQueueSize,
      maxExportBatchSize: cfg.otlp.maxExportBatchSize,
      scheduledDelayMillis: cfg.otlp.scheduledDelayMs,
      exportTimeoutMillis: 5000,
    });
    processors.push(new KeepProcessor(batch, metrics, cfg.sampling.keepErrors, cfg.otlp.maxQueueSize, queued));
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': cfg.serviceName }),
    sampler: new HeadSampler(cfg.sampling.ratio, cfg.sampling.keepErrors),
    spanProcessors: processors,
    spanLimits: { attributeCountLimit: 64, attributeValueLengthLimit: 1024 },
  });
  return {
    tracer: provider.getTracer('meshtrace-ext'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
