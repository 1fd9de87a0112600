export { KEPT_BY } from './deferred-decision-processor.ts';
export { FinishedSpan, type FinishedSpanInit } from './finished-span.ts';
export { startTracing, type Tracing, type TracingOptions, withSpanTraceState } from './tracing.ts';
