// The gRPC service in-process, driven by a real gRPC client speaking the Envoy protos: sampling
// with error-biased keep, dynamic metadata, graceful drain and the health service.
import * as grpc from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { normaliseConfig } from '../../ext-authz/config.ts';
import type { ProcessingRequest, ProcessingResponse } from '../../ext-authz/envoy-types.ts';
import { jsonLogger } from '../../ext-authz/log.ts';
import { clientFor } from '../../ext-authz/protos.ts';
import { fromStruct } from '../../ext-authz/struct.ts';
import { startService } from '../../ext-authz/server.ts';
import { waitFor } from '../support/process.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';

type Duplex = grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
interface ExtProcClient extends grpc.Client {
  Process(): Duplex;
}
interface HealthClient extends grpc.Client {
  Check(r: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  Watch(r: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

async function start(t: ExecutionContext, config: Record<string, unknown>) {
  const otlp = await startOtlpReceiver(t);
  const logs: string[] = [];
  const svc = await startService(
    normaliseConfig({ listen: { port: 0 }, otlp: { endpoint: otlp.url, scheduledDelayMs: 10 }, ...config }),
    { logger: jsonLogger((config.log as { level?: 'debug' } | undefined)?.level ?? 'info', (l) => logs.push(l)) },
  );
  t.teardown(() => svc.stop());
  const ExtProc = clientFor('extProc');
  const client = new ExtProc(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure()) as unknown as ExtProcClient;
  t.teardown(() => client.close());
  return { svc, otlp, client, logs };
}

const hdrs = (pairs: Record<string, string>) => ({
  headers: { headers: Object.entries(pairs).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) },
});

/** One request/response exchange as Envoy drives it; returns the service's replies. */
async function exchange(client: ExtProcClient, path: string, status: number, extra: Record<string, string> = {}) {
  const call = client.Process();
  const replies: ProcessingResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: ProcessingResponse) => {
      replies.push(r);
      if (replies.length === 1)
        call.write({ response_headers: hdrs({ ':status': String(status), 'content-length': '12' }) });
      else call.end();
    });
    call.on('error', reject);
    call.on('end', () => resolve());
  });
  call.write({ request_headers: hdrs({ ':method': 'GET', ':path': path, ':authority': 'svc', ...extra }) });
  await done;
  return replies;
}

test('probability 0: a 200 is not exported, a 503 is kept by error and marked so', async (t) => {
  const { svc, otlp, client } = await start(t, { sampling: { probability: 0 } });
  const ok = await exchange(client, '/fine', 200);
  const tp = ok[0]?.request_headers?.response?.header_mutation?.set_headers?.[0];
  t.is(tp?.header.key, 'traceparent');
  t.regex(
    String(tp?.header.raw_value),
    /^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/,
    'not sampled (bit 0 clear), random trace id (bit 1, W3C level 2)',
  );
  await exchange(client, '/broken', 503);
  await waitFor('the kept span', () => otlp.spans.length >= 1);
  await new Promise((r) => setTimeout(r, 100));
  t.is(otlp.spans.length, 1);
  const a = otlp.spans[0]?.attributes ?? {};
  t.is(a['url.path'], '/broken');
  t.is(a['meshtrace.sampling.kept_by'], 'error');
  t.is(a['error.type'], '503');
  t.is(svc.metrics.get('spans_kept_by_error_total'), 1);
  t.is(svc.metrics.get('spans_started_total'), 2);
  t.is(svc.metrics.get('spans_ended_total'), 2);
  t.is(svc.metrics.snapshot().spans_discarded_by_sampling_total, 1);
});

test('a stream cancelled before the response (Envoy message timeout, client reset) is kept as an error', async (t) => {
  const { otlp, client } = await start(t, { sampling: { probability: 0 } });
  const call = client.Process();
  call.on('error', () => undefined);
  const replies: ProcessingResponse[] = [];
  call.on('data', (r: ProcessingResponse) => {
    replies.push(r);
    call.cancel();
  });
  call.write({ request_headers: hdrs({ ':method': 'GET', ':path': '/cut' }) });
  const span = await waitFor('the reset span', () => otlp.spans[0]);
  t.is(span.attributes['meshtrace.sampling.kept_by'], 'error');
  t.is(span.attributes['meshtrace.ext.end_reason'], 'cancelled');
  t.is(span.statusCode, 2);
});

test('internal trust boundary: the inbound sampled flag is honoured both ways', async (t) => {
  const { otlp, client } = await start(t, {
    sampling: { probability: 0, error: { enabled: false }, trust: { boundary: 'internal' } },
  });
  await exchange(client, '/parent-sampled', 200, {
    traceparent: '00-11111111111111111111111111111111-2222222222222222-01',
  });
  await exchange(client, '/parent-unsampled', 500, {
    traceparent: '00-33333333333333333333333333333333-4444444444444444-00',
  });
  await waitFor('one span', () => otlp.spans.length >= 1);
  await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(
    otlp.spans.map((s) => s.attributes['url.path']),
    ['/parent-sampled'],
  );
  t.is(otlp.spans[0]?.attributes['meshtrace.sampling.kept_by'], 'parent');
});

test('mode metadata: no span, no header mutation; enrichment in dynamic_metadata under the namespace', async (t) => {
  const { svc, client } = await start(t, {
    mode: 'metadata',
    metadataNamespace: 'mt',
    enrich: { headers: ['x-tenant'] },
  });
  const replies = await exchange(client, '/m?token=abc12345', 502, { 'x-tenant': 'a' });
  t.is(replies[0]?.request_headers?.response?.header_mutation, undefined);
  const meta = fromStruct(replies[0]?.dynamic_metadata);
  t.deepEqual(meta.mt, {
    'http.request.method': 'GET',
    'url.path': '/m',
    'url.query': 'token=REDACTED',
    'server.address': 'svc',
    'http.request.header.x-tenant': ['a'],
  });
  t.deepEqual(fromStruct(replies[1]?.dynamic_metadata).mt, {
    'http.response.status_code': 502,
    'http.response.body.size': 12,
  });
  t.is(svc.metrics.get('spans_started_total'), 0);
});

test('graceful stop: health turns NOT_SERVING, an open stream finishes, new calls are refused', async (t) => {
  const { svc, client, logs } = await start(t, { shutdown: { drainMs: 3000 } });
  const Health = clientFor('health');
  const health = new Health(`127.0.0.1:${svc.port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
  t.teardown(() => health.close());
  const watched: string[] = [];
  const watch = health.Watch({ service: 'envoy.service.ext_proc.v3.ExternalProcessor' });
  watch.on('data', (r: { status: string }) => watched.push(r.status));
  watch.on('error', () => undefined);
  await waitFor('the first health status', () => watched.length > 0);
  t.deepEqual(watched, ['SERVING']);

  // A stream open across the stop: request headers answered, response headers after stop().
  const call = client.Process();
  const replies: ProcessingResponse[] = [];
  call.on('data', (r: ProcessingResponse) => replies.push(r));
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.write({ request_headers: hdrs({ ':method': 'GET', ':path': '/slow' }) });
  await waitFor('first reply', () => replies.length === 1);
  const stopping = svc.stop();
  await waitFor('NOT_SERVING on the watch', () => watched.includes('NOT_SERVING'));
  call.write({ response_headers: hdrs({ ':status': '200' }) });
  await waitFor('second reply during drain', () => replies.length === 2);
  call.end();
  t.is((await ended).code, grpc.status.OK);
  await stopping;
  t.is(svc.metrics.activeStreams, 0);
  t.is(svc.metrics.get('spans_ended_total'), 1);
  t.true(logs.some((l) => l.includes('"msg":"draining"')));
  // After stop the port refuses calls.
  const err = await new Promise<grpc.ServiceError | null>((resolve) =>
    health.Check({ service: '' }, (e) => resolve(e)),
  );
  t.is(err?.code, grpc.status.UNAVAILABLE);
});

test('drain timeout: a stream Envoy never finishes is cancelled and its span still ends', async (t) => {
  const { svc, client } = await start(t, { shutdown: { drainMs: 200 } });
  const call = client.Process();
  call.on('error', () => undefined);
  const replies: ProcessingResponse[] = [];
  call.on('data', (r: ProcessingResponse) => replies.push(r));
  call.write({ request_headers: hdrs({ ':method': 'GET', ':path': '/stuck' }) });
  await waitFor('first reply', () => replies.length === 1);
  await svc.stop();
  t.is(svc.metrics.get('spans_started_total'), 1);
  t.is(svc.metrics.get('spans_ended_total'), 1);
  t.is(svc.metrics.activeStreams, 0);
});

test('metrics: Prometheus text with counters and the latency histogram', async (t) => {
  const { svc, client } = await start(t, { metrics: { port: 0 } });
  await exchange(client, '/m', 200);
  const text = await (await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`)).text();
  t.regex(text, /^meshtrace_ext_streams_total 1$/m);
  t.regex(text, /^meshtrace_ext_messages_total 2$/m);
  t.regex(text, /^meshtrace_ext_process_message_latency_ms_count 2$/m);
  t.regex(text, /^meshtrace_ext_active_streams 0$/m);
});

test('without an OTLP endpoint nothing is recorded, yet trace headers still continue the trace', async (t) => {
  const { svc, otlp, client } = await start(t, { otlp: {} });
  const replies = await exchange(client, '/x', 200, {
    traceparent: '00-55555555555555555555555555555555-6666666666666666-01',
  });
  const tp = String(replies[0]?.request_headers?.response?.header_mutation?.set_headers?.[0]?.header.raw_value);
  const [, traceId, spanId] = tp.split('-');
  t.is(traceId, '55555555555555555555555555555555');
  t.regex(spanId ?? '', /^(?!0{16})[0-9a-f]{16}$/);
  t.not(spanId, '6666666666666666');
  await new Promise((r) => setTimeout(r, 100));
  t.is(otlp.spans.length, 0);
  t.is(svc.metrics.get('spans_ended_total'), 1);
});

test('debug logs: one JSON line per stream carrying the trace and span ids of its span', async (t) => {
  const { otlp, client, logs } = await start(t, { log: { level: 'debug' } });
  await exchange(client, '/logged?token=hidden-value-123', 201, {
    traceparent: '00-77777777777777777777777777777777-8888888888888888-01',
  });
  const span = await waitFor('the span', () => otlp.spans[0]);
  const line = await waitFor('the stream log line', () =>
    logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'ext_proc stream closed'),
  );
  t.is(line.trace_id, '77777777777777777777777777777777');
  t.is(line.span_id, span.spanId);
  t.is(line.status, 201);
  t.is(line.path, '/logged');
  t.false(logs.join('\n').includes('hidden-value-123'));
});
