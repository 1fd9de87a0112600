// Our span model → the JSON trace shape of Jaeger's HTTP query API (the `ui.Trace` model in
// jaeger/model/json, read by Jaeger UI and Grafana's Jaeger data source):
//   trace  { traceID, spans[], processes{ p1: {serviceName, tags[]} }, warnings }
//   span   { traceID, spanID, operationName, references[], startTime µs, duration µs,
//            tags[], logs[], processID, warnings, flags }
//   tag    { key, type: string|bool|int64|float64|binary, value }
// The parent becomes a CHILD_OF reference and each OTel link a FOLLOWS_FROM one, as Jaeger's
// own OTLP translator does. Span kind and status become the tags Jaeger writes for OTLP spans
// (span.kind, otel.status_code, otel.status_description, error=true).
import type { AttributeValue, Span } from '../../analysis/model.ts';

export type JaegerTagType = 'string' | 'bool' | 'int64' | 'float64' | 'binary';

export interface JaegerTag {
  key: string;
  type: JaegerTagType;
  value: string | number | boolean;
}

export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  startTime: number;
  duration: number;
  tags: JaegerTag[];
  logs: Array<{ timestamp: number; fields: JaegerTag[] }>;
  processID: string;
  warnings: string[] | null;
  flags: number;
}

export interface JaegerProcess {
  serviceName: string;
  tags: JaegerTag[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

/** One attribute as a typed Jaeger tag; arrays and null are JSON text, as Jaeger stores them. */
export function toTag(key: string, v: AttributeValue): JaegerTag {
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { key, type: 'int64', value: v } : { key, type: 'float64', value: v };
  }
  if (typeof v === 'string') return { key, type: 'string', value: v };
  return { key, type: 'string', value: JSON.stringify(v) };
}

const tagsOf = (attrs: Record<string, AttributeValue>): JaegerTag[] =>
  Object.entries(attrs).map(([k, v]) => toTag(k, v));

function processKey(s: Span): string {
  return JSON.stringify([s.service, s.resource]);
}

/** Spans of one trace (any order) → a Jaeger trace; processes are numbered p1, p2 … in span order. */
export function toJaegerTrace(spans: readonly Span[]): JaegerTrace {
  if (spans.length === 0) throw new Error('toJaegerTrace: a trace needs at least one span');
  const traceID = spans[0]!.traceId;
  const processes: Record<string, JaegerProcess> = {};
  const processIds = new Map<string, string>();
  const ids = new Set(spans.map((s) => s.spanId));
  const warnings: string[] = [];
  const out: JaegerSpan[] = [];
  for (const s of spans) {
    const pk = processKey(s);
    let pid = processIds.get(pk);
    if (pid === undefined) {
      pid = `p${processIds.size + 1}`;
      processIds.set(pk, pid);
      const { 'service.name': _name, ...rest } = s.resource;
      processes[pid] = { serviceName: s.service, tags: tagsOf(rest) };
    }
    const references: JaegerReference[] = [];
    if (s.parentSpanId !== null) references.push({ refType: 'CHILD_OF', traceID: s.traceId, spanID: s.parentSpanId });
    for (const l of s.links) references.push({ refType: 'FOLLOWS_FROM', traceID: l.traceId, spanID: l.spanId });
    const tags = tagsOf(s.attributes);
    if (s.kind !== 'unspecified') tags.push({ key: 'span.kind', type: 'string', value: s.kind });
    if (s.status !== 'unset') tags.push({ key: 'otel.status_code', type: 'string', value: s.status.toUpperCase() });
    if (s.status === 'error') {
      tags.push({ key: 'error', type: 'bool', value: true });
      if (s.statusMessage) tags.push({ key: 'otel.status_description', type: 'string', value: s.statusMessage });
    }
    if (s.traceState) tags.push({ key: 'w3c.tracestate', type: 'string', value: s.traceState });
    const spanWarnings =
      s.parentSpanId !== null && !ids.has(s.parentSpanId)
        ? [`parent span ${s.parentSpanId} is not in the trace`]
        : null;
    if (spanWarnings) warnings.push(`span ${s.spanId}: ${spanWarnings[0]}`);
    out.push({
      traceID: s.traceId,
      spanID: s.spanId,
      operationName: s.name,
      references,
      startTime: s.startUs,
      duration: s.endUs - s.startUs,
      tags,
      logs: s.events.map((e) => ({
        timestamp: e.timeUs,
        fields: [{ key: 'event', type: 'string', value: e.name }, ...tagsOf(e.attributes)],
      })),
      processID: pid,
      warnings: spanWarnings,
      flags: 1,
    });
  }
  return { traceID, spans: out, processes, warnings: warnings.length > 0 ? warnings : null };
}
