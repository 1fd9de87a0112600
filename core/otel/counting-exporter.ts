// Wraps the OTLP exporter to count outcomes and to bound the spans handed to the batch
// processor but not yet exported: past `maxInFlight` a span is dropped and counted instead of
// queued, so a slow or dead collector costs a counter, never memory or request latency.
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/sdk-trace-base';

export interface ExportCounters {
  exported: number;
  failed: number;
  queueFull: number;
  inFlight: number;
}

export class CountingExporter implements SpanExporter {
  readonly counters: ExportCounters = { exported: 0, failed: 0, queueFull: 0, inFlight: 0 };

  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.counters.inFlight -= spans.length;
      if (result.code === ExportResultCode.SUCCESS) this.counters.exported += spans.length;
      else this.counters.failed += spans.length;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Admits a span into `next` (the batch processor) only while fewer than `max` are in flight. */
export class BoundedAdmission implements SpanProcessor {
  constructor(
    private readonly next: SpanProcessor,
    private readonly exporter: CountingExporter,
    private readonly max: number,
  ) {}

  onStart(_span: Span, _ctx: Context): void {}

  onEnd(span: ReadableSpan): void {
    const c = this.exporter.counters;
    if (c.inFlight >= this.max) {
      c.queueFull++;
      return;
    }
    c.inFlight++;
    this.next.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}
