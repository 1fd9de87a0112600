export { KEPT_BY } from './deferred-decision-processor.ts';
export { DeferredSpan, FinishedSpan, type FinishedSpanInit, type SpanRecord } from './finished-span.ts';
export { startTracing, type Tracing, type TracingOptions, withSpanTraceState } from './tracing.ts';
