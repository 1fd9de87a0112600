// OTLP/protobuf ExportTraceServiceRequest (opentelemetry-proto: collector/trace/v1,
// trace/v1, common/v1, resource/v1) written straight from DeferredSpans' recorded facts, in the
// export batch — no FinishedSpan object, no HrTime pairs, no id byte arrays, one pass.
//
// The bytes are exactly those the SDK's ProtobufTraceSerializer writes for the FinishedSpans
// the same records would build (test/unit/otlp-span-encoder.test.ts holds the two to each other
// on random span sets): FinishedSpan's limits applied the same way (keys without a value
// skipped, attribute count and value length limits, the newest links kept), the same optional
// fields left out, the same number encoding (integral → int_value, else double_value).
//
// It declines — returns null, and the caller falls back to the SDK's serializer — for a batch
// it was not made for: a span that is not a DeferredSpan, several resources or scopes in one
// batch, or an attribute value other than a string, number, boolean or array of those.
import { millisToHrTime } from '@opentelemetry/core';
import type { Attributes, AttributeValue, HrTime, Link, SpanContext, TraceState } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { DeferredSpan, type FinishedSpanInit } from './finished-span.ts';
import { I32, I64, LEN, ProtoWriter, VARINT, varintSize } from './proto-writer.ts';

// trace.proto Span and Span.Link both open with trace_id 1, span_id 2, trace_state 3.
const CONTEXT_TRACE_ID = 1;
const CONTEXT_SPAN_ID = 2;
const CONTEXT_TRACE_STATE = 3;
// Span
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_DROPPED_ATTRIBUTES = 10;
const SPAN_DROPPED_EVENTS = 12;
const SPAN_LINKS = 13;
const SPAN_DROPPED_LINKS = 14;
const SPAN_STATUS = 15;
const SPAN_FLAGS = 16;
// Span.Link
const LINK_ATTRIBUTES = 4;
const LINK_DROPPED_ATTRIBUTES = 5;
const LINK_FLAGS = 6;
// Status
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;
const STATUS_CODE_ERROR = 2;
// common.proto KeyValue / AnyValue / ArrayValue / InstrumentationScope, resource.proto Resource
const KV_KEY = 1;
const KV_VALUE = 2;
const ANY_STRING = 1;
const ANY_BOOL = 2;
const ANY_INT = 3;
const ANY_DOUBLE = 4;
const ANY_ARRAY = 5;
const ARRAY_VALUES = 1;
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;
const SCOPE_ATTRIBUTES = 3;
const SCOPE_DROPPED_ATTRIBUTES = 4;
const RESOURCE_ATTRIBUTES = 1;
const RESOURCE_DROPPED_ATTRIBUTES = 2;
// ExportTraceServiceRequest.resource_spans, ResourceSpans, ScopeSpans
const REQUEST_RESOURCE_SPANS = 1;
const RS_RESOURCE = 1;
const RS_SCOPE_SPANS = 2;
const RS_SCHEMA_URL = 3;
const SS_SCOPE = 1;
const SS_SPANS = 2;
const SS_SCHEMA_URL = 3;
// SpanFlags: the W3C trace flags, and bit 8 saying bit 9 (the parent is remote) is known.
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

const MAX_INT64 = 2 ** 63;

/** A value the encoder does not write (the caller falls back to the SDK's serializer). */
class Unsupported extends Error {}

const spanFlags = (traceFlags: number, isRemote: boolean | undefined): number =>
  (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);

function writeScalar(w: ProtoWriter, value: unknown): void {
  if (typeof value === 'string') {
    w.tag(ANY_STRING, LEN);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(ANY_BOOL, VARINT);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -MAX_INT64 && value < MAX_INT64) {
      w.tag(ANY_INT, VARINT);
      w.int64(value);
    } else {
      w.tag(ANY_DOUBLE, I64);
      w.double(value);
    }
  } else if (value !== null && value !== undefined) {
    // An array item that is itself no scalar; null/undefined items are an empty AnyValue.
    throw new Unsupported();
  }
}

const cut = (s: string, limit: number): string => (limit > 0 && s.length > limit ? s.slice(0, limit) : s);

/** One KeyValue: `value` under FinishedSpan's value length limit. */
function writeKeyValue(w: ProtoWriter, field: number, key: string, value: AttributeValue, lengthLimit: number): void {
  const kv = w.begin(field);
  w.tag(KV_KEY, LEN);
  w.string(key);
  const any = w.begin(KV_VALUE);
  if (Array.isArray(value)) {
    const array = w.begin(ANY_ARRAY);
    for (const item of value) {
      const v = w.begin(ARRAY_VALUES);
      writeScalar(w, typeof item === 'string' ? cut(item, lengthLimit) : item);
      w.end(v);
    }
    w.end(array);
  } else if (value === null || value === undefined || typeof value === 'object') {
    throw new Unsupported();
  } else {
    writeScalar(w, typeof value === 'string' ? cut(value, lengthLimit) : value);
  }
  w.end(any);
  w.end(kv);
}

/** Attributes under FinishedSpan's limits (limitAttributes); returns how many were dropped. */
function writeAttributes(
  w: ProtoWriter,
  field: number,
  attributes: Attributes,
  countLimit: number,
  lengthLimit: number,
): number {
  let count = 0;
  let dropped = 0;
  for (const key in attributes) {
    const value = attributes[key];
    // As FinishedSpan: `__proto__` is never an SDK span attribute (see limitAttributes there).
    if (value === undefined || value === null || key.length === 0 || key === '__proto__') continue;
    if (count >= countLimit) {
      dropped++;
      continue;
    }
    count++;
    writeKeyValue(w, field, key, value, lengthLimit);
  }
  return dropped;
}

/**
 * Resource and scope attributes as the SDK writes them: every own key, none skipped, no limits.
 * A key without a value (the SDK writes an empty AnyValue) is declined instead.
 */
function writeFrameAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined || value === null) throw new Unsupported();
    writeKeyValue(w, field, key, value, 0);
  }
}

/** Serialized W3C tracestate, remembered for the last TraceState object (kept spans share one). */
class TraceStateText {
  private last: TraceState | undefined = undefined;
  private text = '';
  of(ts: TraceState | undefined): string {
    if (ts === undefined) return '';
    if (ts !== this.last) {
      this.text = ts.serialize();
      this.last = ts;
    }
    return this.text;
  }
}

/**
 * trace_id, span_id and trace_state of `ctx`: fields 1, 2 and 3 of a Span and of a Span.Link
 * alike (the empty tracestate left out).
 */
function writeContext(w: ProtoWriter, ctx: SpanContext, traceStates: TraceStateText): void {
  w.tag(CONTEXT_TRACE_ID, LEN);
  w.hexBytes(ctx.traceId);
  w.tag(CONTEXT_SPAN_ID, LEN);
  w.hexBytes(ctx.spanId);
  const ts = traceStates.of(ctx.traceState);
  if (ts !== '') {
    w.tag(CONTEXT_TRACE_STATE, LEN);
    w.string(ts);
  }
}

function writeLink(
  w: ProtoWriter,
  link: Link,
  limits: SpanLimits,
  lengthLimit: number,
  traceStates: TraceStateText,
): void {
  const mark = w.begin(SPAN_LINKS);
  const c = link.context;
  writeContext(w, c, traceStates);
  const dropped = writeAttributes(
    w,
    LINK_ATTRIBUTES,
    link.attributes ?? {},
    limits.attributePerLinkCountLimit ?? Number.POSITIVE_INFINITY,
    lengthLimit,
  );
  w.tag(LINK_DROPPED_ATTRIBUTES, VARINT);
  w.varint(dropped);
  w.tag(LINK_FLAGS, I32);
  w.fixed32(spanFlags(c.traceFlags, c.isRemote));
  w.end(mark);
}

function writeTime(w: ProtoWriter, field: number, t: HrTime): void {
  w.tag(field, I64);
  w.hrTimeNanos(t[0], t[1]);
}

function writeSpan(w: ProtoWriter, span: DeferredSpan, init: FinishedSpanInit, traceStates: TraceStateText): void {
  const limits = span.limits;
  const lengthLimit = limits.attributeValueLengthLimit ?? 0;
  const ctx = span.spanContext();
  const mark = w.begin(SS_SPANS);
  writeContext(w, ctx, traceStates);
  const parent = init.parent;
  if (parent?.spanId) {
    w.tag(SPAN_PARENT_SPAN_ID, LEN);
    w.hexBytes(parent.spanId);
  }
  w.tag(SPAN_NAME, LEN);
  w.string(init.name);
  // OTLP's SpanKind is the API's plus one (0 is UNSPECIFIED).
  w.tag(SPAN_KIND, VARINT);
  w.varint(init.kind + 1);
  const start = millisToHrTime(init.startMs);
  const end = millisToHrTime(init.endMs);
  writeTime(w, SPAN_START, start);
  // An end before the start ends at the start (FinishedSpan).
  writeTime(w, SPAN_END, end[0] < start[0] || (end[0] === start[0] && end[1] < start[1]) ? start : end);
  const droppedAttributes = writeAttributes(
    w,
    SPAN_ATTRIBUTES,
    init.attributes,
    limits.attributeCountLimit ?? Number.POSITIVE_INFINITY,
    lengthLimit,
  );
  w.tag(SPAN_DROPPED_ATTRIBUTES, VARINT);
  w.varint(droppedAttributes);
  w.tag(SPAN_DROPPED_EVENTS, VARINT);
  w.varint(0);
  // The newest `linkCountLimit` links, as FinishedSpan keeps them.
  const links = init.links ?? [];
  const maxLinks = limits.linkCountLimit ?? Number.POSITIVE_INFINITY;
  const first = maxLinks === 0 ? links.length : Math.max(0, links.length - maxLinks);
  for (let i = first; i < links.length; i++) writeLink(w, links[i]!, limits, lengthLimit, traceStates);
  w.tag(SPAN_DROPPED_LINKS, VARINT);
  w.varint(first);
  const status = w.begin(SPAN_STATUS);
  const error = init.error;
  const isError = error !== undefined && error !== null;
  if (isError && error !== '') {
    w.tag(STATUS_MESSAGE, LEN);
    w.string(error);
  }
  w.tag(STATUS_CODE, VARINT);
  w.varint(isError ? STATUS_CODE_ERROR : 0);
  w.end(status);
  w.tag(SPAN_FLAGS, I32);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.end(mark);
}

/** The bytes of a Resource and an InstrumentationScope message, as fields of their parents. */
function frameParts(resource: Resource, scope: InstrumentationScope): { resource: Buffer; scope: Buffer } {
  const r = new ProtoWriter(256);
  const rm = r.begin(RS_RESOURCE);
  writeFrameAttributes(r, RESOURCE_ATTRIBUTES, resource.attributes);
  r.tag(RESOURCE_DROPPED_ATTRIBUTES, VARINT);
  r.varint(0);
  r.end(rm);
  const s = new ProtoWriter(128);
  const sm = s.begin(SS_SCOPE);
  s.tag(SCOPE_NAME, LEN);
  s.string(scope.name);
  if (scope.version) {
    s.tag(SCOPE_VERSION, LEN);
    s.string(scope.version);
  }
  const scoped = scope as InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number };
  if (scoped.attributes) writeFrameAttributes(s, SCOPE_ATTRIBUTES, scoped.attributes);
  if (scoped.droppedAttributesCount) {
    s.tag(SCOPE_DROPPED_ATTRIBUTES, VARINT);
    s.varint(scoped.droppedAttributesCount);
  }
  s.end(sm);
  return { resource: Buffer.from(r.buf.subarray(0, r.pos)), scope: Buffer.from(s.buf.subarray(0, s.pos)) };
}

function stringFieldSize(field: number, s: string | undefined): number {
  if (!s) return 0;
  const n = Buffer.byteLength(s, 'utf8');
  return varintSize(field << 3) + varintSize(n) + n;
}

/**
 * Encodes export batches of DeferredSpans. One per exporter: it remembers the resource/scope
 * bytes of the last batch and the size of the last request (the next one is sized from it).
 */
export class DeferredSpanEncoder {
  private frameFor: { resource: Resource; scope: InstrumentationScope } | null = null;
  private frame: { resource: Buffer; scope: Buffer } | null = null;
  private lastBytes = 64 * 1024;
  private readonly traceStates = new TraceStateText();

  /** The request's bytes, or null when this batch is not one the encoder writes (see the top). */
  encode(spans: readonly ReadableSpan[]): Uint8Array | null {
    if (spans.length === 0) return null;
    const first = spans[0];
    if (!(first instanceof DeferredSpan)) return null;
    const resource = first.resource;
    const scope = first.instrumentationScope;
    for (let i = 1; i < spans.length; i++) {
      const s = spans[i];
      if (!(s instanceof DeferredSpan) || s.resource !== resource || s.instrumentationScope !== scope) return null;
    }
    try {
      if (this.frameFor?.resource !== resource || this.frameFor.scope !== scope) {
        this.frame = frameParts(resource, scope);
        this.frameFor = { resource, scope };
      }
      const frame = this.frame!;
      const resourceSchema = stringFieldSize(RS_SCHEMA_URL, resource.schemaUrl);
      const scopeSchema = stringFieldSize(SS_SCHEMA_URL, scope.schemaUrl);
      // The spans are written first, after room for the frame (three tags and lengths of at
      // most 1 + 5 bytes each, and the resource and scope), which goes in front of them last.
      const headroom = 18 + frame.resource.length + frame.scope.length;
      const w = new ProtoWriter(Math.ceil(this.lastBytes * 1.25) + headroom, headroom);
      for (let i = 0; i < spans.length; i++) {
        const span = spans[i] as DeferredSpan;
        writeSpan(w, span, span.init(), this.traceStates);
      }
      if (scope.schemaUrl) {
        w.tag(SS_SCHEMA_URL, LEN);
        w.string(scope.schemaUrl);
      }
      const spanBytes = w.pos - headroom - scopeSchema;
      const scopeSpans = frame.scope.length + spanBytes + scopeSchema;
      const resourceSpans =
        frame.resource.length + varintSize(RS_SCOPE_SPANS << 3) + varintSize(scopeSpans) + scopeSpans + resourceSchema;
      if (resource.schemaUrl) {
        w.tag(RS_SCHEMA_URL, LEN);
        w.string(resource.schemaUrl);
      }
      const end = w.pos;
      // Frame: resource_spans { resource, scope_spans { scope, <spans> [, schema] } [, schema] }
      const head = new ProtoWriter(headroom);
      head.tag(REQUEST_RESOURCE_SPANS, LEN);
      head.varint(resourceSpans);
      head.raw(frame.resource);
      head.tag(RS_SCOPE_SPANS, LEN);
      head.varint(scopeSpans);
      head.raw(frame.scope);
      const start = headroom - head.pos;
      head.buf.copy(w.buf, start, 0, head.pos);
      this.lastBytes = end - start;
      return w.buf.subarray(start, end);
    } catch (err) {
      if (err instanceof Unsupported) return null;
      throw err;
    }
  }
}
