// OTLP/HTTP protobuf body (opentelemetry-proto: collector/trace/v1 ExportTraceServiceRequest,
// trace/v1 ResourceSpans/ScopeSpans/Span/Link/Status, common/v1 KeyValue/AnyValue). Field numbers
// come from those .proto files. Each span is encoded once, when it is recorded; a batch wraps the
// stored span bodies in one resource and one scope, so flushing copies bytes and encodes nothing.
import { ByteWriter, varintSize, writeHexBytes } from './byte-writer';
import { writeLinkAttributesProto } from './link-attributes';
import { SpanRecord, StatusCode } from './span-record';

const LEN: u32 = 2; // wire type: length-delimited
const VARINT: u32 = 0;
const I64: u32 = 1;
const I32: u32 = 5;

// Span.flags (trace.proto SpanFlags): low byte = W3C trace flags; bit 8 says bit 9 is known;
// bit 9 = the parent is remote (another process sent it).
const FLAG_SAMPLED: u32 = 0x01;
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
const FLAG_IS_REMOTE: u32 = 0x200;

function anyStringSize(len: i32): i32 {
  return 1 + varintSize(len) + len;
}

function keyValueSize(keyLen: i32, anyLen: i32): i32 {
  return 1 + varintSize(keyLen) + keyLen + 1 + varintSize(anyLen) + anyLen;
}

/** KeyValue{key=1, value=2: AnyValue{string_value=1 | int_value=3}} as field `field`. */
function writeStringAttr(w: ByteWriter, field: u32, key: string, value: string): void {
  const kl = String.UTF8.byteLength(key);
  const vl = String.UTF8.byteLength(value);
  const anyLen = anyStringSize(vl);
  w.tag(field, LEN);
  w.varint(keyValueSize(kl, anyLen));
  w.tag(1, LEN);
  w.varint(kl);
  w.utf8(key, kl);
  w.tag(2, LEN);
  w.varint(anyLen);
  w.tag(1, LEN);
  w.varint(vl);
  w.utf8(value, vl);
}

function writeIntAttr(w: ByteWriter, field: u32, key: string, value: i64): void {
  const kl = String.UTF8.byteLength(key);
  const anyLen = 1 + varintSize(<u64>value);
  w.tag(field, LEN);
  w.varint(keyValueSize(kl, anyLen));
  w.tag(1, LEN);
  w.varint(kl);
  w.utf8(key, kl);
  w.tag(2, LEN);
  w.varint(anyLen);
  w.tag(3, VARINT);
  w.varint(<u64>value);
}

function writeString(w: ByteWriter, field: u32, s: string): void {
  const n = String.UTF8.byteLength(s);
  w.tag(field, LEN);
  w.varint(n);
  w.utf8(s, n);
}

function writeId(w: ByteWriter, field: u32, hex: string): bool {
  w.tag(field, LEN);
  w.varint(hex.length >> 1);
  return writeHexBytes(w, hex);
}

/**
 * Writes the body of one Span message (no tag/length: the batch adds them). False when the
 * record cannot be encoded (an id that is not hex of the right length) — an encode_error.
 */
export function encodeSpanProto(w: ByteWriter, r: SpanRecord): bool {
  if (r.traceId.length != 32 || r.spanId.length != 16) return false;
  if (r.parentSpanId.length != 0 && r.parentSpanId.length != 16) return false;
  if (!writeId(w, 1, r.traceId) || !writeId(w, 2, r.spanId)) return false;
  if (r.traceState.length > 0) writeString(w, 3, r.traceState);
  if (r.parentSpanId.length > 0 && !writeId(w, 4, r.parentSpanId)) return false;
  writeString(w, 5, r.name);
  w.tag(6, VARINT);
  w.varint(r.kind);
  w.tag(7, I64);
  w.fixed64(r.startNs);
  w.tag(8, I64);
  w.fixed64(r.endNs);
  for (let i = 0; i < r.keys.length; i++) {
    if (r.isInt[i]) writeIntAttr(w, 9, r.keys[i], r.intValues[i]);
    else writeStringAttr(w, 9, r.keys[i], r.strValues[i]);
  }
  const link = r.link;
  if (link !== null) writeLinkAttributesProto(w, link);
  if (r.linkTraceId.length > 0) {
    if (r.linkTraceId.length != 32 || r.linkSpanId.length != 16) return false;
    // Link{trace_id=1, span_id=2, attributes=4}: 18 + 10 bytes of ids, then the reason.
    const kl = String.UTF8.byteLength('meshtrace.link.reason');
    const vl = String.UTF8.byteLength(r.linkReason);
    const attr =
      r.linkReason.length > 0
        ? 1 + varintSize(keyValueSize(kl, anyStringSize(vl))) + keyValueSize(kl, anyStringSize(vl))
        : 0;
    w.tag(13, LEN);
    w.varint(18 + 10 + attr);
    if (!writeId(w, 1, r.linkTraceId) || !writeId(w, 2, r.linkSpanId)) return false;
    if (r.linkReason.length > 0) writeStringAttr(w, 4, 'meshtrace.link.reason', r.linkReason);
  }
  if (r.status != StatusCode.Unset) {
    w.tag(15, LEN); // Status{code=3}
    w.varint(2);
    w.tag(3, VARINT);
    w.varint(r.status);
  }
  w.tag(16, I32);
  w.fixed32(FLAG_SAMPLED | FLAG_HAS_IS_REMOTE | (r.parentSpanId.length > 0 ? FLAG_IS_REMOTE : 0));
  return true;
}

/** Resource{attributes=1}: service.name and the SDK description, encoded once per config. */
export function encodeResourceProto(serviceName: string): ArrayBuffer {
  const w = new ByteWriter(128);
  writeStringAttr(w, 1, 'service.name', serviceName);
  writeStringAttr(w, 1, 'telemetry.sdk.name', 'meshtrace-proxy-wasm');
  writeStringAttr(w, 1, 'telemetry.sdk.language', 'webassembly');
  return w.take();
}

const SCOPE_NAME = 'meshtrace';

/**
 * ExportTraceServiceRequest{resource_spans=1: ResourceSpans{resource=1, scope_spans=2:
 * ScopeSpans{scope=1: InstrumentationScope{name=1}, spans=2...}}} around spans[from, to).
 */
export function encodeBatchProto(w: ByteWriter, resource: ArrayBuffer, spans: ArrayBuffer[], from: i32, to: i32): void {
  const scopeLen = 1 + varintSize(SCOPE_NAME.length) + SCOPE_NAME.length;
  let ss = 1 + varintSize(scopeLen) + scopeLen;
  for (let i = from; i < to; i++) {
    const n = spans[i].byteLength;
    ss += 1 + varintSize(n) + n;
  }
  const rl = resource.byteLength;
  const rs = 1 + varintSize(rl) + rl + 1 + varintSize(ss) + ss;
  w.tag(1, LEN);
  w.varint(rs);
  w.tag(1, LEN);
  w.varint(rl);
  w.raw(changetype<usize>(resource), rl);
  w.tag(2, LEN);
  w.varint(ss);
  w.tag(1, LEN);
  w.varint(scopeLen);
  writeString(w, 1, SCOPE_NAME);
  for (let i = from; i < to; i++) {
    const n = spans[i].byteLength;
    w.tag(2, LEN);
    w.varint(n);
    w.raw(changetype<usize>(spans[i]), n);
  }
}
