// OTLP/HTTP JSON body (the OTLP specification's JSON mapping of the same protos: lowerCamelCase
// field names, trace/span ids as hex strings, enums as integers, 64-bit integers as decimal
// strings). The option for collectors or debugging tools that only read JSON.
import { quote } from '../json/writer';
import { ByteWriter } from './byte-writer';
import { linkAttributesJson } from './link-attributes';
import { SpanRecord, StatusCode } from './span-record';

function text(w: ByteWriter, s: string): void {
  w.utf8(s, String.UTF8.byteLength(s));
}

function stringAttr(key: string, value: string): string {
  return `{"key":${quote(key)},"value":{"stringValue":${quote(value)}}}`;
}

function isHex(s: string, len: i32): bool {
  if (s.length != len) return false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** One Span object; false when an id is not lowercase hex of the right length. */
export function encodeSpanJson(w: ByteWriter, r: SpanRecord): bool {
  if (!isHex(r.traceId, 32) || !isHex(r.spanId, 16)) return false;
  if (r.parentSpanId.length > 0 && !isHex(r.parentSpanId, 16)) return false;
  if (r.linkTraceId.length > 0 && (!isHex(r.linkTraceId, 32) || !isHex(r.linkSpanId, 16))) return false;
  let s = `{"traceId":"${r.traceId}","spanId":"${r.spanId}"`;
  if (r.traceState.length > 0) s += `,"traceState":${quote(r.traceState)}`;
  if (r.parentSpanId.length > 0) s += `,"parentSpanId":"${r.parentSpanId}"`;
  s += `,"name":${quote(r.name)},"kind":${r.kind},"startTimeUnixNano":"${r.startNs}","endTimeUnixNano":"${r.endNs}","attributes":[`;
  for (let i = 0; i < r.keys.length; i++) {
    if (i > 0) s += ',';
    s += r.isInt[i]
      ? `{"key":${quote(r.keys[i])},"value":{"intValue":"${r.intValues[i]}"}}`
      : stringAttr(r.keys[i], r.strValues[i]);
  }
  const link = r.link;
  if (link !== null) s += (r.keys.length > 0 ? ',' : '') + linkAttributesJson(link);
  s += ']';
  if (r.linkTraceId.length > 0) {
    s += `,"links":[{"traceId":"${r.linkTraceId}","spanId":"${r.linkSpanId}","attributes":[`;
    if (r.linkReason.length > 0) s += stringAttr('meshtrace.link.reason', r.linkReason);
    s += ']}]';
  }
  if (r.status != StatusCode.Unset) s += `,"status":{"code":${r.status}}`;
  s += `,"flags":${0x101 | (r.parentSpanId.length > 0 ? 0x200 : 0)}}`;
  text(w, s);
  return true;
}

export function encodeResourceJson(serviceName: string): ArrayBuffer {
  const w = new ByteWriter(128);
  text(
    w,
    `{"attributes":[${stringAttr('service.name', serviceName)},${stringAttr('telemetry.sdk.name', 'meshtrace-proxy-wasm')},${stringAttr('telemetry.sdk.language', 'webassembly')}]}`,
  );
  return w.take();
}

export function encodeBatchJson(w: ByteWriter, resource: ArrayBuffer, spans: ArrayBuffer[], from: i32, to: i32): void {
  w.ascii('{"resourceSpans":[{"resource":');
  w.raw(changetype<usize>(resource), resource.byteLength);
  w.ascii(',"scopeSpans":[{"scope":{"name":"meshtrace"},"spans":[');
  for (let i = from; i < to; i++) {
    if (i > from) w.u8(0x2c);
    w.raw(changetype<usize>(spans[i]), spans[i].byteLength);
  }
  w.ascii(']}]}]}');
}
