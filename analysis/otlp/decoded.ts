// TypeScript view of a decoded ExportTraceServiceRequest, shared by both encodings so one converter
// serves them: the protobufjs static decoder yields Uint8Array ids, Long int64s and null for absent
// fields; OTLP/JSON (spec "JSON Protobuf Encoding") yields hex-string ids, int64 as decimal strings
// or numbers, and base64 bytes. Only types live here — the schema itself comes from the package.

/** protobufjs `Long` (fields we read); `low`/`high` are the signed 32-bit halves. */
export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

export type Int64 = LongLike | string | number;
export type Bytes = Uint8Array | string;

export interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | string | null;
  arrayValue?: { values?: PbAnyValue[] | null } | null;
  kvlistValue?: { values?: PbKeyValue[] | null } | null;
  bytesValue?: Bytes | null;
}

export interface PbKeyValue {
  key?: string | null;
  value?: PbAnyValue | null;
}

export interface PbStatus {
  code?: number | null;
  message?: string | null;
}

export interface PbEvent {
  timeUnixNano?: Int64 | null;
  name?: string | null;
  attributes?: PbKeyValue[] | null;
}

export interface PbLink {
  traceId?: Bytes | null;
  spanId?: Bytes | null;
  traceState?: string | null;
  attributes?: PbKeyValue[] | null;
}

export interface PbSpan {
  traceId?: Bytes | null;
  spanId?: Bytes | null;
  traceState?: string | null;
  parentSpanId?: Bytes | null;
  name?: string | null;
  kind?: number | null;
  startTimeUnixNano?: Int64 | null;
  endTimeUnixNano?: Int64 | null;
  attributes?: PbKeyValue[] | null;
  events?: PbEvent[] | null;
  links?: PbLink[] | null;
  status?: PbStatus | null;
}

export interface PbScopeSpans {
  scope?: { name?: string | null; version?: string | null } | null;
  spans?: PbSpan[] | null;
}

export interface PbResourceSpans {
  resource?: { attributes?: PbKeyValue[] | null } | null;
  scopeSpans?: PbScopeSpans[] | null;
}

export interface PbExportTraceServiceRequest {
  resourceSpans?: PbResourceSpans[] | null;
}
