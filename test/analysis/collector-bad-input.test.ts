// Bad input to the real receivers: each case in a named table gets a clear error (the case name is
// the assertion message) and nothing that was valid is lost — valid spans of the same request are
// kept through partial_success, and the collector keeps serving afterwards.
import { gzipSync } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import test from 'ava';
import {
  decodeResponse,
  decodeStatus,
  grpcExport,
  hexSpan,
  hexTrace,
  jsonRequest,
  post,
  protoRequest,
  startTestCollector,
  T0_NS,
  validSpans,
} from './collector-support.ts';

const PB = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };
const LIMIT = 64 * 1024;

interface HttpCase {
  name: string;
  body: () => Uint8Array | string;
  headers: Record<string, string>;
  path?: string;
  method?: string;
  status: number;
  message: RegExp;
}

const httpCases: HttpCase[] = [
  {
    name: 'malformed protobuf',
    body: () => Buffer.from('this is not an ExportTraceServiceRequest at all'),
    headers: PB,
    status: 400,
    message: /malformed protobuf ExportTraceServiceRequest/,
  },
  {
    name: 'truncated protobuf',
    body: () => protoRequest(validSpans(3)).subarray(0, 40),
    headers: PB,
    status: 400,
    message: /malformed protobuf ExportTraceServiceRequest: index out of range/,
  },
  {
    name: 'malformed JSON',
    body: () => '{"resourceSpans": [',
    headers: JSON_CT,
    status: 400,
    message: /malformed JSON/,
  },
  {
    name: 'JSON resourceSpans not an array',
    body: () => '{"resourceSpans": {"x": 1}}',
    headers: JSON_CT,
    status: 400,
    message: /resourceSpans must be an array/,
  },
  {
    name: 'JSON with snake_case keys',
    body: () => '{"resource_spans": []}',
    headers: JSON_CT,
    status: 400,
    message: /lowerCamelCase/,
  },
  {
    name: 'wrong content type',
    body: () => 'hello',
    headers: { 'Content-Type': 'text/plain' },
    status: 415,
    message: /unsupported Content-Type 'text\/plain' \(supported: application\/x-protobuf, application\/json\)/,
  },
  {
    name: 'unsupported content encoding',
    body: () => protoRequest(validSpans(1)),
    headers: { ...PB, 'Content-Encoding': 'br' },
    status: 415,
    message: /unsupported Content-Encoding 'br'/,
  },
  {
    name: 'gzip garbage',
    body: () => Buffer.from('definitely not gzip'),
    headers: { ...PB, 'Content-Encoding': 'gzip' },
    status: 400,
    message: /invalid gzip body/,
  },
  {
    name: 'oversized body',
    body: () => Buffer.alloc(LIMIT + 1, 1),
    headers: PB,
    status: 413,
    message: new RegExp(`request body exceeds the ${LIMIT}-byte limit`),
  },
  {
    name: 'gzip bomb (small on the wire, oversized decompressed)',
    body: () => gzipSync(Buffer.alloc(LIMIT * 20, 0)),
    headers: { ...PB, 'Content-Encoding': 'gzip' },
    status: 413,
    message: new RegExp(`decompressed body exceeds the ${LIMIT}-byte limit`),
  },
  {
    name: 'wrong path',
    body: () => protoRequest(validSpans(1)),
    headers: PB,
    path: '/v1/metrics',
    status: 404,
    message: /OTLP traces go to POST \/v1\/traces/,
  },
  { name: 'wrong method', body: () => '', headers: PB, method: 'GET', status: 405, message: /method GET not allowed/ },
];

test('OTLP/HTTP bad requests get clear errors as google.rpc.Status; the collector keeps serving', async (t) => {
  const c = await startTestCollector(t, { maxRequestBytes: LIMIT });
  for (const k of httpCases) {
    const res = await post(c.httpPort as number, k.body(), k.headers, k.path, k.method);
    t.is(res.status, k.status, k.name);
    const isJson = (res.headers.get('content-type') ?? '').includes('json');
    const st = isJson ? (JSON.parse(res.body.toString()) as { message: string }) : decodeStatus(res.body);
    t.regex(st.message, k.message, k.name);
  }
  const ok = await post(c.httpPort as number, protoRequest(validSpans(2, 7)), PB);
  t.is(ok.status, 200, 'a valid request after all that');
  await c.flush();
  t.like(await c.store.stats(), { spans: 2, traces: 1 }, 'only the valid request was stored');
  t.like(c.stats(), { spansAccepted: 2, spansRejected: 0, spansLost: 0 });
});

// One request mixing valid spans with every per-span defect; only the defects are rejected.
const mixed = [
  { traceId: hexTrace(1), spanId: hexSpan(1), startNs: T0_NS, endNs: T0_NS + 10_000n }, // valid root
  { spanId: hexSpan(2), startNs: T0_NS, endNs: T0_NS + 1n }, // missing trace id
  { traceId: hexTrace(1), startNs: T0_NS, endNs: T0_NS + 1n }, // missing span id
  { traceId: hexTrace(1), spanId: 'abcd', startNs: T0_NS, endNs: T0_NS + 1n }, // span id of 2 bytes
  { traceId: '0'.repeat(32), spanId: hexSpan(5), startNs: T0_NS, endNs: T0_NS + 1n }, // all-zero trace id
  { traceId: hexTrace(1), spanId: hexSpan(6), startNs: T0_NS + 5000n, endNs: T0_NS + 1000n }, // end < start
  { traceId: hexTrace(1), spanId: hexSpan(7), endNs: T0_NS }, // no start
  { traceId: hexTrace(1), spanId: hexSpan(8), parentSpanId: hexSpan(1), startNs: T0_NS + 1000n, endNs: T0_NS + 2000n }, // valid child
];
const mixedReasons = [
  /6 span\(s\)/,
  /2× trace_id missing, not 16 bytes or all zeros \(first at resource_spans\[0\]\.scope_spans\[0\]\.spans\[1\]\)/,
  /2× span_id missing, not 8 bytes or all zeros \(first at resource_spans\[0\]\.scope_spans\[0\]\.spans\[2\]\)/,
  /1× end_time_unix_nano before start_time_unix_nano \(first at .*spans\[5\]\)/,
  /1× start_time_unix_nano missing or invalid/,
];

test('partial success over OTLP/HTTP protobuf: invalid spans rejected with reasons, valid ones stored', async (t) => {
  const c = await startTestCollector(t);
  const res = await post(c.httpPort as number, protoRequest(mixed), PB);
  t.is(res.status, 200);
  const ps = decodeResponse(res.body).partialSuccess;
  t.is(ps?.rejectedSpans.toNumber(), 6);
  for (const re of mixedReasons) t.regex(ps?.errorMessage ?? '', re);
  await c.flush();
  const stored = await c.store.getTrace(hexTrace(1));
  t.deepEqual(
    stored.map((s) => [s.spanId, s.parentSpanId]),
    [
      [hexSpan(1), null],
      [hexSpan(8), hexSpan(1)],
    ],
  );
  t.like(c.stats(), { spansReceived: 8, spansAccepted: 2, spansRejected: 6 });
});

test('partial success over OTLP/HTTP JSON (ids as hex, int64 as strings)', async (t) => {
  const c = await startTestCollector(t);
  const res = await post(c.httpPort as number, JSON.stringify(jsonRequest(mixed)), JSON_CT);
  t.is(res.status, 200);
  const body = JSON.parse(res.body.toString()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
  t.is(body.partialSuccess.rejectedSpans, '6');
  for (const re of mixedReasons) t.regex(body.partialSuccess.errorMessage, re);
  await c.flush();
  t.is((await c.store.getTrace(hexTrace(1))).length, 2);
  const all = await post(c.httpPort as number, JSON.stringify(jsonRequest(validSpans(3, 2))), JSON_CT);
  t.deepEqual(JSON.parse(all.body.toString()), {}, 'no partialSuccess when everything is accepted');
});

test('OTLP/gRPC: malformed message → INVALID_ARGUMENT, oversized → RESOURCE_EXHAUSTED, partial success', async (t) => {
  const c = await startTestCollector(t, { maxRequestBytes: LIMIT });
  const port = c.grpcPort as number;
  const bad = await grpcExport(port, Buffer.from('this is not protobuf'));
  t.is(bad.error?.code, grpcStatus.INVALID_ARGUMENT, 'malformed');
  t.regex(bad.error?.details ?? '', /malformed protobuf ExportTraceServiceRequest/);
  const big = await grpcExport(port, Buffer.alloc(LIMIT + 100, 1));
  t.is(big.error?.code, grpcStatus.RESOURCE_EXHAUSTED, 'oversized');
  t.is(big.error?.metadata.get('grpc-status-details-bin').length, 0, 'no retry hint: retrying cannot help');
  const part = await grpcExport(port, protoRequest(mixed));
  t.is(part.error, null);
  const ps = decodeResponse(part.response as Buffer).partialSuccess;
  t.is(ps?.rejectedSpans.toNumber(), 6);
  for (const re of mixedReasons) t.regex(ps?.errorMessage ?? '', re);
  await c.flush();
  t.is((await c.store.getTrace(hexTrace(1))).length, 2);
  t.like(c.stats().grpc.responses, { INVALID_ARGUMENT: 1, OK: 1 });
});
