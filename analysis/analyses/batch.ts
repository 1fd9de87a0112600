// Batch engines run one analysis over many traces. A trace that cannot be analysed (no root,
// a parent cycle …) is recorded with its reason and the engine keeps going: one bad trace never
// hides the answer for the rest.
import type { Span } from '../model.ts';

export interface TraceError {
  traceId: string;
  reason: string;
}

export interface BatchResult<T> {
  value: T;
  errors: TraceError[];
}

/** Spans grouped by trace id, in first-seen order. The arrays hold the caller's span objects. */
export function spansByTrace(spans: readonly Span[]): Map<string, Span[]> {
  const traces = new Map<string, Span[]>();
  for (const s of spans) {
    const list = traces.get(s.traceId);
    if (list) list.push(s);
    else traces.set(s.traceId, [s]);
  }
  return traces;
}
