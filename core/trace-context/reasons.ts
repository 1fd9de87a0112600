// Reason codes: why a header did not yield (all of) a context. Stable snake_case strings shared
// with the AssemblyScript codec (test/vectors/README.md, "Reason codes"); the filter counts them
// as Envoy metrics, the TypeScript side logs them.

export const REASONS = [
  'traceparent_duplicate',
  'traceparent_malformed',
  'traceparent_invalid_hex',
  'traceparent_invalid_version',
  'traceparent_zero_trace_id',
  'traceparent_zero_span_id',
  'tracestate_too_long',
  'tracestate_too_many_members',
  'tracestate_invalid_member',
  'tracestate_duplicate_key',
  'baggage_invalid_member',
  'baggage_truncated',
  'b3_malformed',
  'b3_invalid_hex',
  'b3_zero_id',
  'b3_invalid_sampling',
  'b3_sampling_only',
  'b3multi_incomplete',
  'b3multi_invalid_id',
  'b3multi_zero_id',
  'b3multi_invalid_sampled',
  'jaeger_malformed',
  'jaeger_invalid_id',
  'jaeger_zero_id',
  'jaeger_invalid_flags',
] as const;

export type Reason = (typeof REASONS)[number];

const REASON_SET: ReadonlySet<string> = new Set(REASONS);

export function isReason(value: string): value is Reason {
  return REASON_SET.has(value);
}

/** A pure parser's answer: the value, or the one reason it was refused. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: Reason };

export function accept<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function refuse<T = never>(reason: Reason): Parsed<T> {
  return { ok: false, reason };
}
