// OTLP trace protobuf (opentelemetry-proto, trace/v1/trace.proto and
// collector/trace/v1/trace_service.proto) written straight from a finished span's plain data —
// for hosts that decide at response time and only then turn a request into spans (the gateway
// plugins). The SDK's path for the same span holds a ReadableSpan until its batch goes, then
// builds an object tree per span (otlp-transformer) and encodes that (protobufjs); in
// express-gateway at 100 % kept that path cost ≈ 29 µs of gateway CPU per request, 18 µs of it
// before serialisation (gateway-plugins/README.md "Cost per request"). Here a span is bytes
// the moment it ends, in a Buffer the garbage collector never scans.
//
// What the SDK does to the same span is done here too (its decoded output is compared with
// the SDK's in test/unit/otlp-span-encoder.test.ts): attribute keys without a value are
// skipped, at most `attributeCountLimit` attributes are kept (the rest counted as dropped),
// string values are cut at `attributeValueLengthLimit`, links are capped at `linkCountLimit`
// (oldest dropped), an end before the start ends at the start, span flags carry the W3C trace
// flags plus the parent's is-remote bits, integers are int_value and other numbers double_value.
import { LEN, ProtoWriter } from './proto-writer.ts';

/** Attribute values the gateway records: scalars. */
export type ScalarAttributes = Record<string, string | number | boolean | undefined | null>;

export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
  tracestate?: string;
  /** W3C trace flags of the linked context (bit 0 sampled). */
  traceFlags: number;
  isRemote: boolean;
  attributes?: ScalarAttributes;
}

export interface SpanRecord {
  name: string;
  /** @opentelemetry/api SpanKind (INTERNAL 0 … CONSUMER 4); OTLP's enum is one higher. */
  kind: number;
  traceId: string;
  spanId: string;
  /** W3C tracestate of this span's context ('' for none). */
  tracestate: string;
  parent: { spanId: string; isRemote: boolean } | null;
  startMs: number;
  endMs: number;
  attributes: ScalarAttributes;
  links?: readonly SpanLinkRecord[];
  /** An ERROR status with this message; null leaves the status UNSET. */
  error: string | null;
}

export interface EncodeLimits {
  attributeCountLimit: number;
  attributeValueLengthLimit: number;
  linkCountLimit: number;
  attributePerLinkCountLimit: number;
}

// trace.proto field numbers
const SPAN = { traceId: 1, spanId: 2, traceState: 3, parentSpanId: 4, name: 5, kind: 6, start: 7, end: 8 } as const;
const SPAN_ATTRIBUTES = 9;
const SPAN_DROPPED_ATTRIBUTES = 10;
const SPAN_LINKS = 13;
const SPAN_DROPPED_LINKS = 14;
const SPAN_STATUS = 15;
const SPAN_FLAGS = 16;
const LINK = { traceId: 1, spanId: 2, traceState: 3, attributes: 4, droppedAttributes: 5, flags: 6 } as const;
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;
const STATUS_ERROR = 2;
// common.proto
const KEY_VALUE = { key: 1, value: 2 } as const;
const ANY = { string: 1, bool: 2, int: 3, double: 4 } as const;
// SpanFlags: bit 8 says bit 9 (the parent context is remote) is known.
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const SAMPLED = 0x01;

const spanFlags = (traceFlags: number, isRemote: boolean): number =>
  (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);

/** Writes `attributes` as repeated KeyValue `field`; returns how many were dropped by the limits. */
function writeAttributes(
  w: ProtoWriter,
  field: number,
  attributes: ScalarAttributes,
  maxCount: number,
  maxLength: number,
): number {
  let count = 0;
  let dropped = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null || key.length === 0) continue;
    if (count >= maxCount) {
      dropped++;
      continue;
    }
    count++;
    const kv = w.begin(field);
    w.string(KEY_VALUE.key, key);
    const any = w.begin(KEY_VALUE.value);
    if (typeof value === 'string') {
      w.string(ANY.string, maxLength > 0 && value.length > maxLength ? value.slice(0, maxLength) : value);
    } else if (typeof value === 'boolean') {
      w.bool(ANY.bool, value);
    } else if (Number.isSafeInteger(value)) {
      w.int64(ANY.int, value);
    } else {
      // Fractions, ±Infinity, NaN, and integers past 2^53 (not exact as int64 from a double).
      w.double(ANY.double, value);
    }
    w.end(any);
    w.end(kv);
  }
  return dropped;
}

/** Appends `span` as field `field` (ScopeSpans.spans is 2) of the message being written. */
export function writeSpan(w: ProtoWriter, field: number, span: SpanRecord, limits: EncodeLimits): void {
  const mark = w.begin(field);
  w.hex(SPAN.traceId, span.traceId);
  w.hex(SPAN.spanId, span.spanId);
  if (span.tracestate !== '') w.string(SPAN.traceState, span.tracestate);
  if (span.parent !== null) w.hex(SPAN.parentSpanId, span.parent.spanId);
  w.string(SPAN.name, span.name);
  w.uint(SPAN.kind, span.kind + 1);
  w.nanosFromMs(SPAN.start, span.startMs);
  w.nanosFromMs(SPAN.end, Math.max(span.startMs, span.endMs));
  const dropped = writeAttributes(
    w,
    SPAN_ATTRIBUTES,
    span.attributes,
    limits.attributeCountLimit,
    limits.attributeValueLengthLimit,
  );
  if (dropped > 0) w.uint(SPAN_DROPPED_ATTRIBUTES, dropped);
  const links = span.links ?? [];
  // As the SDK's addLink: past the limit the oldest links go.
  const firstLink = Math.max(0, links.length - limits.linkCountLimit);
  for (let i = firstLink; i < links.length; i++) {
    const link = links[i]!;
    const lm = w.begin(SPAN_LINKS);
    w.hex(LINK.traceId, link.traceId);
    w.hex(LINK.spanId, link.spanId);
    if (link.tracestate) w.string(LINK.traceState, link.tracestate);
    const ld = writeAttributes(
      w,
      LINK.attributes,
      link.attributes ?? {},
      limits.attributePerLinkCountLimit,
      limits.attributeValueLengthLimit,
    );
    if (ld > 0) w.uint(LINK.droppedAttributes, ld);
    w.fixed32(LINK.flags, spanFlags(link.traceFlags, link.isRemote));
    w.end(lm);
  }
  if (firstLink > 0) w.uint(SPAN_DROPPED_LINKS, firstLink);
  // Always present, empty when UNSET, as the SDK writes it.
  const status = w.begin(SPAN_STATUS);
  if (span.error !== null) {
    w.string(STATUS_MESSAGE, span.error);
    w.uint(STATUS_CODE, STATUS_ERROR);
  }
  w.end(status);
  w.fixed32(SPAN_FLAGS, spanFlags(SAMPLED, span.parent?.isRemote === true));
  w.end(mark);
}

// trace_service.proto / trace.proto / resource.proto / common.proto framing fields
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS = { resource: 1, scopeSpans: 2 } as const;
const RESOURCE_ATTRIBUTES = 1;
const SCOPE_SPANS = { scope: 1 } as const;
/** ScopeSpans.spans: the field writeSpan() writes each span as. */
export const SPANS_FIELD = 2;
const SCOPE = { name: 1, version: 2 } as const;

/**
 * The fixed part of an ExportTraceServiceRequest with one resource and one scope: `frame(n)`
 * returns the bytes that go before `n` bytes of spans written by writeSpan(w, 2, …).
 */
export class RequestFrame {
  private readonly resource: Buffer;
  private readonly scope: Buffer;

  constructor(resourceAttributes: Record<string, string>, scope: { name: string; version?: string }) {
    const w = new ProtoWriter(256);
    writeAttributes(w, RESOURCE_ATTRIBUTES, resourceAttributes, Number.POSITIVE_INFINITY, 0);
    this.resource = Buffer.from(w.view());
    w.reset();
    w.string(SCOPE.name, scope.name);
    if (scope.version) w.string(SCOPE.version, scope.version);
    this.scope = Buffer.from(w.view());
  }

  frame(spanBytes: number): Buffer {
    const w = new ProtoWriter(64 + this.resource.length + this.scope.length);
    const scopeSpansLen = lenField(this.scope.length) + spanBytes;
    w.tag(REQUEST_RESOURCE_SPANS, LEN);
    w.varint(lenField(this.resource.length) + lenField(scopeSpansLen));
    w.tag(RESOURCE_SPANS.resource, LEN);
    w.varint(this.resource.length);
    w.raw(this.resource);
    w.tag(RESOURCE_SPANS.scopeSpans, LEN);
    w.varint(scopeSpansLen);
    w.tag(SCOPE_SPANS.scope, LEN);
    w.varint(this.scope.length);
    w.raw(this.scope);
    return Buffer.from(w.view());
  }
}

/** Bytes of a length-delimited field (one-byte tag) with a body of `n` bytes. */
function lenField(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return 1 + size + n;
}
