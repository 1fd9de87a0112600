// A real OTLP/HTTP receiver for tests (POST /v1/traces, application/x-protobuf). Decodes with
// protobufjs over a transcription of the published opentelemetry-proto messages (trace/v1,
// common/v1, resource/v1 — only the fields tests read; unknown fields are skipped by protobuf
// rules) and keeps every raw body so tests can scan exported bytes for secrets.
import { createServer, type Server } from 'node:http';
import protobuf from 'protobufjs';
import type { Teardown } from '../../support/process.ts';

const OTLP_PROTO = `
syntax = "proto3";
package opentelemetry.proto;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15; fixed32 flags = 16;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: true }).root;
const Request = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');

export type Value = string | number | boolean | Value[] | null;

export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  statusCode: number;
  attributes: Record<string, Value>;
  resource: Record<string, Value>;
}

interface DecodedKV {
  key: string;
  value?: Record<string, unknown>;
}

function anyValue(v: Record<string, unknown> | undefined): Value {
  if (!v) return null;
  if ('string_value' in v) return v.string_value as string;
  if ('bool_value' in v) return v.bool_value as boolean;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value as number;
  if ('array_value' in v) return ((v.array_value as { values?: Record<string, unknown>[] }).values ?? []).map(anyValue);
  return null;
}

function attrs(list: DecodedKV[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

export function decodeTraces(body: Uint8Array): ReceivedSpan[] {
  const msg = Request.toObject(Request.decode(body), { longs: String, bytes: Buffer, oneofs: false }) as {
    resource_spans?: {
      resource?: { attributes?: DecodedKV[] };
      scope_spans?: { spans?: Record<string, unknown>[] }[];
    }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of msg.resource_spans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          name: s.name as string,
          traceId: hex(s.trace_id as Uint8Array),
          spanId: hex(s.span_id as Uint8Array),
          parentSpanId: hex(s.parent_span_id as Uint8Array | undefined),
          kind: (s.kind as number) ?? 0,
          statusCode: ((s.status as { code?: number } | undefined)?.code as number) ?? 0,
          attributes: attrs(s.attributes as DecodedKV[]),
          resource,
        });
  }
  return out;
}

export interface OtlpReceiver {
  port: number;
  url: string;
  spans: ReceivedSpan[];
  /** Every request body received, undecoded. */
  raw: Buffer[];
  server: Server;
  close(): Promise<void>;
}

export async function startOtlpReceiver(t: Teardown | undefined): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const raw: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      raw.push(body);
      if (req.url !== '/v1/traces' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      try {
        spans.push(...decodeTraces(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('OTLP receiver did not bind');
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t?.teardown(close);
  return { port: addr.port, url: `http://127.0.0.1:${addr.port}/v1/traces`, spans, raw, server, close };
}
