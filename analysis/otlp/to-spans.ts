// A decoded ExportTraceServiceRequest (either encoding) → model Spans. Spans that cannot be stored
// faithfully are rejected one by one — the rest of the request is kept — and the reasons are
// summarised for ExportTraceServiceResponse.partial_success (OTLP spec "Partial Success": the
// server reports rejected_spans and a human-readable error_message).
import type { Span, SpanEvent, SpanKind, SpanLink, StatusCode } from '../model.ts';
import type { PbExportTraceServiceRequest, PbSpan } from './decoded.ts';
import { parseId } from './ids.ts';
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from './limits.ts';
import { nanosToMicros } from './nanos.ts';
import { attributes } from './values.ts';

export interface Conversion {
  spans: Span[];
  rejected: number;
  /** '' when nothing was rejected; otherwise one clause per reason with a count and first location. */
  errorMessage: string;
}

// SpanKind / StatusCode wire values (trace.proto); OTLP/JSON sends the integers, the names are
// accepted too because some hand-written producers use them.
const KINDS: SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const KIND_NAMES: Record<string, SpanKind> = {
  SPAN_KIND_UNSPECIFIED: 'unspecified',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};
const STATUSES: StatusCode[] = ['unset', 'ok', 'error'];
const STATUS_NAMES: Record<string, StatusCode> = {
  STATUS_CODE_UNSET: 'unset',
  STATUS_CODE_OK: 'ok',
  STATUS_CODE_ERROR: 'error',
};

export function kindOf(k: unknown): SpanKind {
  if (typeof k === 'number') return KINDS[k] ?? 'unspecified';
  if (typeof k === 'string') return KIND_NAMES[k] ?? 'unspecified';
  return 'unspecified';
}

export function statusOf(c: unknown): StatusCode {
  if (typeof c === 'number') return STATUSES[c] ?? 'unset';
  if (typeof c === 'string') return STATUS_NAMES[c] ?? 'unset';
  return 'unset';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = <T>(v: T[] | null | undefined): T[] => (Array.isArray(v) ? v : []);

/** Returns the span, or the reason it is rejected. */
function convertSpan(
  s: PbSpan,
  service: string,
  resource: Record<string, Span['attributes'][string]>,
  limits: SpanLimits,
): Span | string {
  if (s === null || typeof s !== 'object') return 'span is not a message';
  const traceId = parseId(s.traceId, 16);
  if (!traceId) return 'trace_id missing, not 16 bytes or all zeros';
  const spanId = parseId(s.spanId, 8);
  if (!spanId) return 'span_id missing, not 8 bytes or all zeros';
  const parent = parseId(s.parentSpanId, 8);
  if (parent === null && !isZeroId(s.parentSpanId)) return 'parent_span_id must be empty or 8 bytes';
  const startUs = nanosToMicros(s.startTimeUnixNano);
  if (startUs === null) return 'start_time_unix_nano missing or invalid';
  const endUs = nanosToMicros(s.endTimeUnixNano);
  if (endUs === null) return 'end_time_unix_nano missing or invalid';
  if (endUs < startUs) return 'end_time_unix_nano before start_time_unix_nano';

  const events: SpanEvent[] = [];
  const rawEvents = list(s.events);
  for (let i = 0; i < rawEvents.length && i < limits.maxEvents; i++) {
    const e = rawEvents[i];
    if (e === null || typeof e !== 'object') continue;
    events.push({
      timeUs: nanosToMicros(e.timeUnixNano) ?? startUs,
      name: str(e.name).slice(0, limits.maxValueChars),
      attributes: attributes(e.attributes, limits),
    });
  }
  const links: SpanLink[] = [];
  const rawLinks = list(s.links);
  for (let i = 0; i < rawLinks.length && i < limits.maxLinks; i++) {
    const l = rawLinks[i];
    if (l === null || typeof l !== 'object') continue;
    const lt = parseId(l.traceId, 16);
    const ls = parseId(l.spanId, 8);
    if (!lt || !ls) continue; // a link to nothing carries no information
    links.push({ traceId: lt, spanId: ls, attributes: attributes(l.attributes, limits) });
  }
  const status = s.status && typeof s.status === 'object' ? s.status : null;
  const span: Span = {
    traceId,
    spanId,
    parentSpanId: parent || null,
    name: str(s.name).slice(0, limits.maxValueChars),
    kind: kindOf(s.kind),
    service,
    startUs,
    endUs,
    status: statusOf(status?.code),
    statusMessage: str(status?.message).slice(0, limits.maxValueChars),
    attributes: attributes(s.attributes, limits),
    resource,
    events,
    links,
  };
  const traceState = str(s.traceState);
  if (traceState !== '') span.traceState = traceState.slice(0, 512); // W3C caps tracestate at 512 chars
  return span;
}

function isZeroId(v: unknown): boolean {
  if (v instanceof Uint8Array) return v.length === 8 && v.every((b) => b === 0);
  return typeof v === 'string' && /^0{16}$/.test(v);
}

/** Counts rejected spans by reason, remembering where each reason first occurred. */
export class Rejections {
  count = 0;
  private readonly reasons = new Map<string, { count: number; first: string }>();

  add(reason: string, where: string): void {
    this.count++;
    const r = this.reasons.get(reason);
    if (r) r.count++;
    else this.reasons.set(reason, { count: 1, first: where });
  }

  /** The partial_success error_message: '' when nothing was rejected. */
  message(): string {
    if (this.count === 0) return '';
    const clauses = [...this.reasons].map(([reason, r]) => `${r.count}× ${reason} (first at ${r.first})`);
    return `rejected ${this.count} span(s): ${clauses.join('; ')}`;
  }
}

/** Converts every span of the request; never throws on odd shapes (they become rejections). */
export function toSpans(req: PbExportTraceServiceRequest, limits: SpanLimits = DEFAULT_SPAN_LIMITS): Conversion {
  const spans: Span[] = [];
  const rejections = new Rejections();
  const reject = (reason: string, where: string) => rejections.add(reason, where);
  list(req?.resourceSpans).forEach((rs, i) => {
    if (rs === null || typeof rs !== 'object') return;
    const resource = attributes(rs.resource?.attributes, limits);
    const name = resource['service.name'];
    const service = typeof name === 'string' && name !== '' ? name : 'unknown_service';
    list(rs.scopeSpans).forEach((ss, j) => {
      if (ss === null || typeof ss !== 'object') return;
      list(ss.spans).forEach((s, k) => {
        const where = `resource_spans[${i}].scope_spans[${j}].spans[${k}]`;
        try {
          const out = convertSpan(s, service, resource, limits);
          if (typeof out === 'string') reject(out, where);
          else spans.push(out);
        } catch (err) {
          reject(`unreadable span (${err instanceof Error ? err.message : String(err)})`, where);
        }
      });
    });
  });
  return { spans, rejected: rejections.count, errorMessage: rejections.message() };
}
