// Back-pressure: a tiny queue in front of a store whose writes are held back. While the queue is
// full, OTLP/HTTP answers 429 with Retry-After and OTLP/gRPC RESOURCE_EXHAUSTED with a RetryInfo
// trailer; once the store catches up the same requests succeed, and the official exporter's own
// retry (honouring Retry-After) delivers its spans — nothing accepted is lost.
import { request } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import type { Span } from '../../analysis/model.ts';
import { decodeRpcStatus } from '../../analysis/otlp/codec.ts';
import { DuckDBTraceStore } from '../../analysis/store/duckdb-store.ts';
import type { TraceStore } from '../../analysis/store/trace-store.ts';
import { waitFor } from '../support/process.ts';
import {
  decodeStatus,
  grpcExport,
  hexTrace,
  post,
  protoRequest,
  startTestCollector,
  trailer,
  validSpans,
} from './collector-support.ts';

/** The real DuckDB store, with appends held until `release()` — a store that has fallen behind. */
async function heldStore(t: { teardown(fn: () => Promise<void>): void }) {
  const inner = await DuckDBTraceStore.open();
  t.teardown(() => inner.close());
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const store: TraceStore = Object.assign(Object.create(inner) as TraceStore, {
    append: async (spans: readonly Span[]) => {
      await gate;
      return inner.append(spans);
    },
  });
  return { store, release: () => release() };
}

const PB = { 'Content-Type': 'application/x-protobuf' };

test('full queue → 429 + Retry-After / RESOURCE_EXHAUSTED + RetryInfo; recovery once the store catches up', async (t) => {
  const held = await heldStore(t);
  const c = await startTestCollector(t, { store: held.store, queueCapacitySpans: 4, retryAfterSeconds: 2 });
  const http = c.httpPort as number;

  t.is((await post(http, protoRequest(validSpans(3, 1)), PB)).status, 200, 'first request fits');
  const refused = await post(http, protoRequest(validSpans(3, 2)), PB);
  t.is(refused.status, 429, 'second request does not fit behind the first');
  t.is(refused.headers.get('retry-after'), '2');
  const st = decodeStatus(refused.body);
  t.is(st.code, grpcStatus.RESOURCE_EXHAUSTED);
  t.regex(st.message, /queue cannot take this request now \(3\/4 spans queued\); retry after 2s/);
  t.is(decodeRpcStatus(refused.body).retryDelayMs, 2000, 'the Status body carries RetryInfo too');

  const grpc = await grpcExport(c.grpcPort as number, protoRequest(validSpans(3, 3)));
  t.is(grpc.error?.code, grpcStatus.RESOURCE_EXHAUSTED);
  const details = trailer(grpc.error?.metadata, 'grpc-status-details-bin');
  t.truthy(details, 'grpc-status-details-bin trailer present');
  t.is(decodeRpcStatus(details as Buffer).retryDelayMs, 2000, 'RetryInfo.retry_delay = 2 s');

  t.like(c.stats(), { requestsRefused: 2, spansRefused: 6, queueDepth: 3 });

  held.release();
  await c.flush();
  t.is((await post(http, protoRequest(validSpans(3, 2)), PB)).status, 200, 'retry succeeds');
  t.is((await grpcExport(c.grpcPort as number, protoRequest(validSpans(3, 3)))).error, null, 'gRPC retry succeeds');
  await c.flush();
  for (const n of [1, 2, 3]) t.is((await c.store.getTrace(hexTrace(n))).length, 3, `trace ${n} stored once`);
  t.like(c.stats(), { spansAccepted: 9, spansStored: 9, spansLost: 0, queueDepth: 0 });
});

test('the official OTLP/HTTP exporter retries after 429 and its spans arrive', async (t) => {
  const held = await heldStore(t);
  const c = await startTestCollector(t, { store: held.store, queueCapacitySpans: 2, retryAfterSeconds: 1 });
  await post(c.httpPort as number, protoRequest(validSpans(2, 9)), PB); // fills the queue
  t.true(c.stats().queueDepth >= 2);

  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'retrying' }) });
  const span = provider.getTracer('t').startSpan('work');
  span.end();
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${c.httpPort}/v1/traces` });
  const result = new Promise<number>((resolve) =>
    exporter.export([span as unknown as ReadableSpan], (r) => resolve(r.code)),
  );
  // the first attempt meets a full queue; the store recovers before the exporter's retry
  await waitFor('the exporter to be refused', () => (c.stats().http.responses['429'] ?? 0) >= 1, 20_000);
  held.release();
  t.is(await result, ExportResultCode.SUCCESS);
  await exporter.shutdown();
  await c.flush();
  t.is((await c.store.getTrace(span.spanContext().traceId))[0]?.service, 'retrying');
  t.is(c.stats().http.responses['200'], 2, 'the filler request and the exporter retry');
});

test('request bodies being read are bounded: past maxInFlightBytes new requests get 429, then recover', async (t) => {
  const c = await startTestCollector(t, { maxRequestBytes: 64 * 1024, maxInFlightBytes: 48 * 1024 });
  const port = c.httpPort as number;
  const slowBody = Buffer.from(protoRequest(validSpans(400, 1)));
  t.true(slowBody.length > 24 * 1024 && slowBody.length < 40 * 1024, `slow body is ${slowBody.length} bytes`);
  // a slow client: sends all but the last byte, then stalls — its bytes stay in flight
  const slow = request({
    host: '127.0.0.1',
    port,
    path: '/v1/traces',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': slowBody.length },
  });
  const slowStatus = new Promise<number>((resolve, reject) => {
    slow.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    slow.on('error', reject);
  });
  slow.write(slowBody.subarray(0, slowBody.length - 1));
  await waitFor('the slow body to be buffered', () => c.stats().http.inFlightBytes === slowBody.length - 1);

  const big = protoRequest(validSpans(400, 2)); // fits maxRequestBytes, not the remaining in-flight budget
  const refused = await post(port, big, PB);
  t.is(refused.status, 429);
  t.is(refused.headers.get('retry-after'), '1');
  t.regex(decodeStatus(refused.body).message, /too many request bodies at once \(maxInFlightBytes 49152\)/);
  t.is(decodeRpcStatus(refused.body).retryDelayMs, 1000, 'with RetryInfo');

  slow.end(slowBody.subarray(slowBody.length - 1));
  t.is(await slowStatus, 200, 'the slow request completes');
  t.is(c.stats().http.inFlightBytes, 0, 'its bytes are released');
  t.is((await post(port, big, PB)).status, 200, 'the refused request succeeds on retry');
  await c.flush();
  t.is((await c.store.getTrace(hexTrace(2))).length, 400);
});
