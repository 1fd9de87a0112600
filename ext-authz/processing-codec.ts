// The ExternalProcessor/Process messages on the wire, written here instead of through
// proto-loader for this one hot method (one bidi stream, two messages each way, per HTTP request).
// proto-loader decodes into protobufjs message objects and then copies them into plain objects
// (toObject), and encodes by first copying plain objects into message objects (fromObject) and
// then writing through a chain of forked writers; under bench:ext-proc that was ~1/6 of the
// service's CPU and a large share of its garbage. Here a request is read straight into the plain
// shapes of envoy-types.ts and a response is written straight from a small `Reply` into one Buffer.
//
// Field numbers are Envoy's (external_processor.proto, base.proto, processing_mode.proto as
// shipped in @grpc/grpc-js-xds 1.14.1) and google/protobuf/struct.proto's:
//
//   ProcessingRequest  request_headers=2 response_headers=3 request_body=4 response_body=5
//                      request_trailers=6 response_trailers=7 metadata_context=8 (skipped)
//                      attributes=9 (map<string, Struct>) observability_mode=10
//   HttpHeaders        headers=1 (HeaderMap) attributes=2 (deprecated, skipped) end_of_stream=3
//   HttpBody           body=1 end_of_stream=2          HttpTrailers  trailers=1 (HeaderMap)
//   HeaderMap          headers=1 (repeated HeaderValue) HeaderValue  key=1 value=2 raw_value=3
//   ProcessingResponse request_headers=1 response_headers=2 request_body=3 response_body=4
//                      request_trailers=5 response_trailers=6 dynamic_metadata=8 mode_override=9
//   HeadersResponse / BodyResponse  response=1 (CommonResponse)   TrailersResponse  (sent empty)
//   CommonResponse     header_mutation=2                HeaderMutation  set_headers=1 remove_headers=2
//   HeaderValueOption  header=1 append_action=3 (OVERWRITE_IF_EXISTS_OR_ADD = 2)
//   ProcessingMode     request_header_mode=1 … response_trailer_mode=6 (enums, values below)
//   Struct fields=1 (map<string, Value>)   Value null=1 number=2 string=3 bool=4 struct=5 list=6
//   ListValue values=1
//
// Decoding follows proto3: unknown fields are skipped by wire type, the last arm of the `request`
// oneof wins. Bytes that are not a ProcessingRequest (truncated, bad wire type, nesting deeper
// than MAX_DEPTH) throw, and grpc-js fails that stream with INTERNAL, as it did with proto-loader.
// test/ext-authz/processing-codec.test.ts checks both directions against proto-loader.
import type { Attrs } from './enrich/types.ts';
import type {
  HeaderMap,
  HeaderValue,
  HttpBody,
  HttpHeaders,
  ProcessingMode,
  ProcessingRequest,
  Struct,
  StructValue,
} from './envoy-types.ts';
import { setOwn } from './struct.ts';

// ───────────────────────────── decoding ─────────────────────────────

/** Struct nesting accepted in attributes (Envoy's are flat); deeper input is rejected. */
const MAX_DEPTH = 32;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint's low 32 bits, unsigned (tags, lengths, enums, bools). */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++] as number;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's payload; advances past it. */
  span(): number {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new Error('length-delimited field runs past its message');
    this.pos = start + len;
    return start;
  }

  string(): string {
    const start = this.span();
    return this.buf.toString('utf8', start, this.pos);
  }

  bytes(): Buffer {
    const start = this.span();
    return this.buf.subarray(start, this.pos);
  }

  double(): number {
    if (this.end - this.pos < 8) throw new Error('truncated fixed64');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.span();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new Error('truncated fixed-width field');
    this.pos += n;
  }

  /** A reader over the payload of the length-delimited field at the cursor. */
  sub(): Reader {
    const start = this.span();
    return new Reader(this.buf, start, this.pos);
  }
}

function expectWire(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new Error(`${field}: wire type ${actual}, expected ${expected}`);
}

/** The six oneof arms, in field order (ProcessingRequest 2–7, ProcessingResponse 1–6). */
export const RESPONSE_ARMS = [
  'request_headers',
  'response_headers',
  'request_body',
  'response_body',
  'request_trailers',
  'response_trailers',
] as const;

export type ResponseArm = (typeof RESPONSE_ARMS)[number];

// ProcessingRequest field number → arm (request_headers = 2 … response_trailers = 7).
const ARMS = [undefined, undefined, ...RESPONSE_ARMS] as const;

/** ProcessingRequest bytes → the plain shape proto-loader gave (envoy-types.ts). */
export function decodeProcessingRequest(buf: Buffer): ProcessingRequest {
  const r = new Reader(buf, 0, buf.length);
  const out: ProcessingRequest = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7: {
        const arm = ARMS[field] as NonNullable<ProcessingRequest['request']>;
        expectWire(wire, WIRE_LEN, arm);
        // A oneof: a later arm replaces an earlier one.
        if (out.request !== undefined) out[out.request] = undefined;
        out.request = arm;
        const sub = r.sub();
        if (field <= 3) out[arm as 'request_headers'] = readHttpHeaders(sub);
        else if (field <= 5) out[arm as 'request_body'] = readHttpBody(sub);
        else out[arm as 'request_trailers'] = readHttpTrailers(sub);
        break;
      }
      case 9: {
        expectWire(wire, WIRE_LEN, 'attributes');
        const entry = r.sub();
        let key = '';
        let value: Struct = {};
        while (entry.pos < entry.end) {
          const t = entry.varint();
          if (t === 0x0a) key = entry.string();
          else if (t === 0x12) value = readStruct(entry.sub(), 1);
          else entry.skip(t & 7);
        }
        out.attributes ??= {};
        setOwn(out.attributes, key, value);
        break;
      }
      case 10:
        expectWire(wire, WIRE_VARINT, 'observability_mode');
        out.observability_mode = r.varint() !== 0;
        break;
      default:
        r.skip(wire);
    }
  }
  return out;
}

function readHttpHeaders(r: Reader): HttpHeaders {
  const out: HttpHeaders = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) out.headers = readHeaderMap(r.sub());
    else if (tag === 0x18) out.end_of_stream = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return out;
}

function readHttpBody(r: Reader): HttpBody {
  const out: HttpBody = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) out.body = r.bytes();
    else if (tag === 0x10) out.end_of_stream = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return out;
}

function readHttpTrailers(r: Reader): { trailers?: HeaderMap } {
  const out: { trailers?: HeaderMap } = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) out.trailers = readHeaderMap(r.sub());
    else r.skip(tag & 7);
  }
  return out;
}

function readHeaderMap(r: Reader): HeaderMap {
  const headers: HeaderValue[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) headers.push(readHeaderValue(r.sub()));
    else r.skip(tag & 7);
  }
  return { headers };
}

/**
 * HeaderValue with its value already a string: `raw_value` (what Envoy ≥1.28 fills) decoded as
 * UTF-8 when non-empty, else `value` — the rule headers.ts applied to proto-loader's output.
 */
function readHeaderValue(r: Reader): HeaderValue {
  let key = '';
  let value: string | undefined;
  let raw: string | undefined;
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === 0x0a) key = r.string();
    else if (tag === 0x12) value = r.string();
    else if (tag === 0x1a) raw = r.string();
    else r.skip(tag & 7);
  }
  return { key, value: raw !== undefined && raw.length > 0 ? raw : (value ?? '') };
}

function readStruct(r: Reader, depth: number): Struct {
  if (depth > MAX_DEPTH) throw new Error(`Struct nested deeper than ${MAX_DEPTH}`);
  const fields: Record<string, StructValue> = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag !== 0x0a) {
      r.skip(tag & 7);
      continue;
    }
    const entry = r.sub();
    let key = '';
    let value: StructValue = {};
    while (entry.pos < entry.end) {
      const t = entry.varint();
      if (t === 0x0a) key = entry.string();
      else if (t === 0x12) value = readValue(entry.sub(), depth);
      else entry.skip(t & 7);
    }
    setOwn(fields, key, value);
  }
  return { fields };
}

function readValue(r: Reader, depth: number): StructValue {
  if (depth > MAX_DEPTH) throw new Error(`Struct value nested deeper than ${MAX_DEPTH}`);
  let out: StructValue = {};
  while (r.pos < r.end) {
    const tag = r.varint();
    switch (tag) {
      case 0x08:
        r.varint();
        out = { nullValue: 'NULL_VALUE', kind: 'nullValue' };
        break;
      case 0x11:
        out = { numberValue: r.double(), kind: 'numberValue' };
        break;
      case 0x1a:
        out = { stringValue: r.string(), kind: 'stringValue' };
        break;
      case 0x20:
        out = { boolValue: r.varint() !== 0, kind: 'boolValue' };
        break;
      case 0x2a:
        out = { structValue: readStruct(r.sub(), depth + 1), kind: 'structValue' };
        break;
      case 0x32: {
        const list = r.sub();
        const values: StructValue[] = [];
        while (list.pos < list.end) {
          const t = list.varint();
          if (t === 0x0a) values.push(readValue(list.sub(), depth + 1));
          else list.skip(t & 7);
        }
        out = { listValue: { values }, kind: 'listValue' };
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

// ───────────────────────────── encoding ─────────────────────────────

/** What one ProcessingResponse says; encodeProcessingResponse turns it into bytes. */
export interface Reply {
  arm: ResponseArm;
  /** CommonResponse.header_mutation.set_headers as raw_value, OVERWRITE_IF_EXISTS_OR_ADD. */
  setHeaders?: readonly (readonly [string, string])[];
  /** CommonResponse.header_mutation.remove_headers. */
  removeHeaders?: readonly string[];
  /** dynamic_metadata = { [namespace]: attrs }. */
  metadata?: { namespace: string; attrs: Attrs };
  modeOverride?: ProcessingMode;
}

const ARM_FIELD: Record<ResponseArm, number> = {
  request_headers: 1,
  response_headers: 2,
  request_body: 3,
  response_body: 4,
  request_trailers: 5,
  response_trailers: 6,
};

const HEADER_SEND_MODE = { DEFAULT: 0, SEND: 1, SKIP: 2 } as const;
const BODY_SEND_MODE = { NONE: 0, STREAMED: 1, BUFFERED: 2, BUFFERED_PARTIAL: 3 } as const;
const OVERWRITE_IF_EXISTS_OR_ADD = 2;

/**
 * Writes into one growing scratch buffer. A nested message's length is not known until its
 * content is written, so one byte is reserved for it and the content is moved up in the rare
 * case it needs more (content ≥ 128 bytes).
 */
class Writer {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  varint(v: number): void {
    this.ensure(5);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** Starts a length-delimited field; returns the mark to pass to close(). */
  open(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the field opened at `mark`: writes its length, moving the content if it needs > 1 byte. */
  close(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return;
    }
    const extra = varintSize(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos += extra;
    let v = len;
    let p = mark;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }

  string(field: number, s: string): void {
    const mark = this.open(field);
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.close(mark);
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }

  /** A copy of what was written (the scratch buffer is reused by the next message). */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

const writer = new Writer();

/** A Reply → ProcessingResponse bytes. */
export function encodeProcessingResponse(reply: Reply): Buffer {
  const w = writer;
  w.reset();
  const arm = w.open(ARM_FIELD[reply.arm]);
  if (reply.arm !== 'request_trailers' && reply.arm !== 'response_trailers') {
    const common = w.open(1); // HeadersResponse/BodyResponse.response
    const set = reply.setHeaders ?? [];
    const remove = reply.removeHeaders ?? [];
    if (set.length > 0 || remove.length > 0) {
      const mutation = w.open(2);
      for (const [key, value] of set) {
        const option = w.open(1);
        const header = w.open(1);
        w.string(1, key);
        w.string(3, value); // raw_value: bytes on the wire, the string's UTF-8
        w.close(header);
        w.tag(3, WIRE_VARINT);
        w.varint(OVERWRITE_IF_EXISTS_OR_ADD);
        w.close(option);
      }
      for (const name of remove) w.string(2, name);
      w.close(mutation);
    }
    w.close(common);
  }
  w.close(arm);
  if (reply.metadata) {
    const struct = w.open(8); // dynamic_metadata: Struct{fields: {[namespace]: Value{struct_value}}}
    const entry = w.open(1);
    w.string(1, reply.metadata.namespace);
    const value = w.open(2);
    writeAttrsStruct(w, reply.metadata.attrs);
    w.close(value);
    w.close(entry);
    w.close(struct);
  }
  if (reply.modeOverride) writeMode(w, reply.modeOverride);
  return w.take();
}

/** Value{struct_value: {attrs}} body (the caller opened the Value). */
function writeAttrsStruct(w: Writer, attrs: Attrs): void {
  const struct = w.open(5);
  for (const key in attrs) {
    const value = attrs[key];
    if (value === undefined) continue;
    const entry = w.open(1);
    w.string(1, key);
    const v = w.open(2);
    if (typeof value === 'string') w.string(3, value);
    else if (typeof value === 'number') w.double(2, value);
    else if (typeof value === 'boolean') {
      w.tag(4, WIRE_VARINT);
      w.varint(value ? 1 : 0);
    } else {
      const list = w.open(6);
      for (const s of value) {
        const item = w.open(1);
        w.string(3, s);
        w.close(item);
      }
      w.close(list);
    }
    w.close(v);
    w.close(entry);
  }
  w.close(struct);
}

function writeMode(w: Writer, m: ProcessingMode): void {
  const mode = w.open(9);
  const modes: [number, number][] = [
    [1, HEADER_SEND_MODE[m.request_header_mode ?? 'DEFAULT']],
    [2, HEADER_SEND_MODE[m.response_header_mode ?? 'DEFAULT']],
    [3, BODY_SEND_MODE[m.request_body_mode ?? 'NONE']],
    [4, BODY_SEND_MODE[m.response_body_mode ?? 'NONE']],
    [5, HEADER_SEND_MODE[m.request_trailer_mode ?? 'DEFAULT']],
    [6, HEADER_SEND_MODE[m.response_trailer_mode ?? 'DEFAULT']],
  ];
  // proto3: a zero enum is the default and is not written.
  for (const [field, value] of modes) {
    if (value === 0) continue;
    w.tag(field, WIRE_VARINT);
    w.varint(value);
  }
  w.close(mode);
}
