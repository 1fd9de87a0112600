// The span shape every analysis works on: a flat, storage-neutral record decoded from OTLP
// (or read from Jaeger's query API). Times are microseconds since the Unix epoch as numbers —
// exact up to 2^53 µs (≈ 285 years), Jaeger's own precision, and cheap to compare.

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
export type StatusCode = 'unset' | 'ok' | 'error';

export type AttributeValue = string | number | boolean | null | AttributeValue[];

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, AttributeValue>;
}

export interface SpanEvent {
  timeUs: number;
  name: string;
  attributes: Record<string, AttributeValue>;
}

export interface Span {
  traceId: string; // 32 lowercase hex
  spanId: string; // 16 lowercase hex
  parentSpanId: string | null; // null for a root
  name: string; // operation
  kind: SpanKind;
  service: string; // resource service.name ('unknown_service' if absent)
  startUs: number;
  endUs: number; // >= startUs (the receiver rejects the reverse)
  status: StatusCode;
  statusMessage: string;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
  events: SpanEvent[];
  links: SpanLink[];
  /** W3C tracestate as recorded on the span (OTLP Span.trace_state); carries `ot=th:` for sampling weight. */
  traceState?: string;
}

export const durationUs = (s: Pick<Span, 'startUs' | 'endUs'>): number => s.endUs - s.startUs;
