// The online-linking facts of a span (analysis/linking/README.md "Input contract"), encoded for
// OTLP protobuf and JSON. They need value types the other attributes never use — bool, double,
// array of strings — so they are written here rather than widening every attribute's storage.
//
//   meshtrace.workload           string   both sides: the workload whose requests can be linked
//   meshtrace.link.worker        int      both sides: this Wasm VM's id, one per Envoy worker thread
//                                         (a worker forwards what it sees in order; two workers may
//                                         not — evidence for the collector, analysis/linking)
//   meshtrace.link.method        string   outbound: none | single | model | provisional
//   meshtrace.link.inflight      int      outbound: inbound requests in flight when the call left
//   meshtrace.link.inferred      bool     linked by the proxy (the parent was not sent by the app)
//   meshtrace.link.confidence    double   linked: 1 = the only request in flight, else the model's
//   meshtrace.link.evidence      string   model links: value (an id passed on), rules (the learned
//                                         pattern left one candidate), timing (the reaction gap chose)
//   meshtrace.link.provisional   bool     provisional: its parent is for the collector to find
//   meshtrace.link.candidates    string[] provisional: span ids of the requests that could have
//                                         caused it (absent = more than max_candidates were in flight)
import { quote } from '../json/writer';
import { ByteWriter, varintSize } from './byte-writer';

export class LinkAttributes {
  workload: string = '';
  /** 0 = unknown (not written). */
  worker: u32 = 0;
  /** "" on the inbound side (no decision is taken there). */
  method: string = '';
  inflight: i32 = 0;
  inferred: bool = false;
  confidence: f64 = 0;
  /** "" unless a model link: value, rules or timing. */
  evidence: string = '';
  provisional: bool = false;
  candidates: string[] = [];
}

const LEN: u32 = 2;
const VARINT: u32 = 0;
const I64: u32 = 1;

function utf8Len(s: string): i32 {
  return String.UTF8.byteLength(s);
}

/** Span.attributes (field 9) entry: KeyValue{key=1, value=2 (AnyValue of `anyLen` bytes)}; then the caller writes the AnyValue. */
function keyValueHead(w: ByteWriter, key: string, anyLen: i32): void {
  const kl = utf8Len(key);
  w.tag(9, LEN);
  w.varint(1 + varintSize(kl) + kl + 1 + varintSize(anyLen) + anyLen);
  w.tag(1, LEN);
  w.varint(kl);
  w.utf8(key, kl);
  w.tag(2, LEN);
  w.varint(anyLen);
}

function stringAny(w: ByteWriter, s: string): void {
  const n = utf8Len(s);
  w.tag(1, LEN);
  w.varint(n);
  w.utf8(s, n);
}

function stringAnyLen(s: string): i32 {
  const n = utf8Len(s);
  return 1 + varintSize(n) + n;
}

function protoString(w: ByteWriter, key: string, value: string): void {
  keyValueHead(w, key, stringAnyLen(value));
  stringAny(w, value);
}

function protoBool(w: ByteWriter, key: string, value: bool): void {
  keyValueHead(w, key, 2); // AnyValue.bool_value = 2
  w.tag(2, VARINT);
  w.varint(value ? 1 : 0);
}

function protoInt(w: ByteWriter, key: string, value: i64): void {
  keyValueHead(w, key, 1 + varintSize(<u64>value)); // AnyValue.int_value = 3
  w.tag(3, VARINT);
  w.varint(<u64>value);
}

function protoDouble(w: ByteWriter, key: string, value: f64): void {
  keyValueHead(w, key, 9); // AnyValue.double_value = 4 (fixed64)
  w.tag(4, I64);
  w.fixed64(reinterpret<u64>(value));
}

/** AnyValue{array_value=5: ArrayValue{values=1: AnyValue{string_value=1}…}}. */
function protoStringArray(w: ByteWriter, key: string, values: string[]): void {
  let arr = 0;
  for (let i = 0; i < values.length; i++) {
    const n = stringAnyLen(values[i]);
    arr += 1 + varintSize(n) + n;
  }
  keyValueHead(w, key, 1 + varintSize(arr) + arr);
  w.tag(5, LEN);
  w.varint(arr);
  for (let i = 0; i < values.length; i++) {
    w.tag(1, LEN);
    w.varint(stringAnyLen(values[i]));
    stringAny(w, values[i]);
  }
}

export function writeLinkAttributesProto(w: ByteWriter, a: LinkAttributes): void {
  protoString(w, 'meshtrace.workload', a.workload);
  if (a.worker != 0) protoInt(w, 'meshtrace.link.worker', a.worker);
  if (a.method.length == 0) return;
  protoString(w, 'meshtrace.link.method', a.method);
  protoInt(w, 'meshtrace.link.inflight', a.inflight);
  if (a.inferred) {
    protoBool(w, 'meshtrace.link.inferred', true);
    protoDouble(w, 'meshtrace.link.confidence', a.confidence);
    if (a.evidence.length > 0) protoString(w, 'meshtrace.link.evidence', a.evidence);
  }
  if (a.provisional) {
    protoBool(w, 'meshtrace.link.provisional', true);
    if (a.candidates.length > 0) protoStringArray(w, 'meshtrace.link.candidates', a.candidates);
  }
}

function jsonAttr(key: string, value: string): string {
  return `{"key":${quote(key)},"value":${value}}`;
}

/** The same attributes as OTLP/JSON KeyValue objects, comma-separated (no surrounding brackets). */
export function linkAttributesJson(a: LinkAttributes): string {
  let s = jsonAttr('meshtrace.workload', `{"stringValue":${quote(a.workload)}}`);
  if (a.worker != 0) s += ',' + jsonAttr('meshtrace.link.worker', `{"intValue":"${a.worker}"}`);
  if (a.method.length == 0) return s;
  s += ',' + jsonAttr('meshtrace.link.method', `{"stringValue":${quote(a.method)}}`);
  s += ',' + jsonAttr('meshtrace.link.inflight', `{"intValue":"${a.inflight}"}`);
  if (a.inferred) {
    s += ',' + jsonAttr('meshtrace.link.inferred', '{"boolValue":true}');
    s += ',' + jsonAttr('meshtrace.link.confidence', `{"doubleValue":${a.confidence}}`);
    if (a.evidence.length > 0) s += ',' + jsonAttr('meshtrace.link.evidence', `{"stringValue":${quote(a.evidence)}}`);
  }
  if (a.provisional) {
    s += ',' + jsonAttr('meshtrace.link.provisional', '{"boolValue":true}');
    if (a.candidates.length > 0) {
      let arr = '';
      for (let i = 0; i < a.candidates.length; i++) {
        if (i > 0) arr += ',';
        arr += `{"stringValue":${quote(a.candidates[i])}}`;
      }
      s += ',' + jsonAttr('meshtrace.link.candidates', `{"arrayValue":{"values":[${arr}]}}`);
    }
  }
  return s;
}
