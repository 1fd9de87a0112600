// The official OpenTelemetry JS exporters (OTLP/HTTP protobuf, OTLP/HTTP JSON, OTLP/gRPC; with and
// without gzip) send a trace to the real receivers; the trace must land in the DuckDB store intact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, type Span as ApiSpan, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import test, { type ExecutionContext } from 'ava';
import { startCollector } from '../../analysis/collector/collector.ts';
import type { Span } from '../../analysis/model.ts';

async function collector(t: ExecutionContext) {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshtrace-collector-'));
  const c = await startCollector({ dataDir, httpPort: 0, grpcPort: 0 });
  t.teardown(async () => {
    await c.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return c;
}

const us = (hr: [number, number]) => hr[0] * 1_000_000 + Math.floor(hr[1] / 1000);

/** Emits root → child (error, event) → grandchild through `exporter`; returns what the SDK recorded. */
async function emitTrace(exporter: SpanExporter): Promise<ReadableSpan[]> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '2.0.1', 'host.name': 'node-7' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('meshtrace-test', '1.0.0');
  const root = tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 500,
      'http.request.header.authorization': 'Bearer s3cr3t',
      ratio: 0.25,
      cached: false,
      'cart.items': ['apple', 'pear'],
    },
  });
  const child = tracer.startSpan(
    'SELECT cart',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.rows': 3 } },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  child.addEvent('retry', { attempt: 2, reason: 'deadlock' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
  const grandchild = tracer.startSpan('lock wait', { kind: SpanKind.INTERNAL }, trace.setSpan(ROOT_CONTEXT, child));
  grandchild.setStatus({ code: SpanStatusCode.OK });
  const spans: ApiSpan[] = [grandchild, child, root];
  for (const s of spans) s.end();
  await provider.forceFlush();
  await provider.shutdown();
  return spans as unknown as ReadableSpan[];
}

function expected(s: ReadableSpan, kind: Span['kind']): Partial<Span> {
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? null,
    name: s.name,
    kind,
    service: 'checkout',
    startUs: us(s.startTime),
    endUs: us(s.endTime),
  };
}

async function assertLanded(t: ExecutionContext, c: Awaited<ReturnType<typeof collector>>, sent: ReadableSpan[]) {
  await c.flush();
  const [grandchild, child, root] = sent as [ReadableSpan, ReadableSpan, ReadableSpan];
  const stored = await c.store.getTrace(root.spanContext().traceId);
  t.is(stored.length, 3, 'all three spans stored');
  const byId = new Map(stored.map((s) => [s.spanId, s]));
  const r = byId.get(root.spanContext().spanId);
  const ch = byId.get(child.spanContext().spanId);
  const g = byId.get(grandchild.spanContext().spanId);
  t.like(r, expected(root, 'server'));
  t.like(ch, expected(child, 'client'));
  t.like(g, expected(grandchild, 'internal'));
  t.deepEqual(r?.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': 500,
    'http.request.header.authorization': '[REDACTED]',
    ratio: 0.25,
    cached: false,
    'cart.items': ['apple', 'pear'],
  });
  t.like(r?.resource, { 'service.name': 'checkout', 'service.version': '2.0.1', 'host.name': 'node-7' });
  t.is(r?.status, 'unset');
  t.is(ch?.status, 'error');
  t.is(ch?.statusMessage, 'deadlock detected');
  t.is(g?.status, 'ok');
  t.deepEqual(ch?.attributes, { 'db.system': 'postgresql', 'db.rows': 3 });
  t.deepEqual(ch?.events, [
    { timeUs: us(child.events[0]!.time), name: 'retry', attributes: { attempt: 2, reason: 'deadlock' } },
  ]);
  const st = c.stats();
  t.like(st, { spansAccepted: 3, spansRejected: 0, spansStored: 3, spansLost: 0, queueDepth: 0 });
}

test('OTLP/HTTP protobuf exporter → receiver → store, intact', async (t) => {
  const c = await collector(t);
  const sent = await emitTrace(new ProtoExporter({ url: `http://127.0.0.1:${c.httpPort}/v1/traces` }));
  await assertLanded(t, c, sent);
  t.is(c.stats().http.responses['200'], 3);
});

test('OTLP/HTTP protobuf exporter with gzip → intact', async (t) => {
  const c = await collector(t);
  const sent = await emitTrace(
    new ProtoExporter({ url: `http://127.0.0.1:${c.httpPort}/v1/traces`, compression: CompressionAlgorithm.GZIP }),
  );
  await assertLanded(t, c, sent);
});

test('OTLP/HTTP JSON exporter → receiver → store, intact', async (t) => {
  const c = await collector(t);
  const sent = await emitTrace(new JsonExporter({ url: `http://127.0.0.1:${c.httpPort}/v1/traces` }));
  await assertLanded(t, c, sent);
});

test('OTLP/gRPC exporter → receiver → store, intact (and with gzip)', async (t) => {
  const c = await collector(t);
  const sent = await emitTrace(new GrpcExporter({ url: `http://127.0.0.1:${c.grpcPort}` }));
  await assertLanded(t, c, sent);
  t.is(c.stats().grpc.responses['OK'], 3);
  const zipped = await emitTrace(
    new GrpcExporter({ url: `http://127.0.0.1:${c.grpcPort}`, compression: CompressionAlgorithm.GZIP }),
  );
  await c.flush();
  t.is((await c.store.getTrace(zipped[2]!.spanContext().traceId)).length, 3);
});
