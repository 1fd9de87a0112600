// Span export through real Envoy 1.40: the filter's OTLP/HTTP requests go out through Envoy's
// own http_call to a cluster pointing at a real receiver, which decodes them with the published
// protos. Checks what a user of the exported trace relies on: ids that match the propagated
// headers, semantic-convention attributes, batching on size and on the timer, the stats.
import test, { type ExecutionContext } from 'ava';
import { localCluster, proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './export-receiver.ts';
import { builtFilter, send, traceparent } from './filter-support.ts';

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = `00-${PARENT_TRACE}-b7ad6b7169203331-01`;

async function setup(t: ExecutionContext, exportConfig: Record<string, unknown>) {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t, (req) => ({ status: req.url.startsWith('/fail') ? 503 : 200, body: 'ok' }));
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [
        wasmHttpFilter(builtFilter(), { service_name: 'orders', export: { cluster: 'otlp', ...exportConfig } }),
      ],
      extraClusters: [localCluster('otlp', [receiver.port])],
    }),
  );
  return { receiver, upstream, envoy, listenPort };
}

test('each sampled request through Envoy arrives at the OTLP receiver as one span', async (t) => {
  const { receiver, upstream, envoy, listenPort } = await setup(t, { batch_size: 4, flush_interval_ms: 200 });
  for (let i = 0; i < 6; i++) {
    const r = await send(listenPort, i === 5 ? '/fail/5' : `/orders/${i}`, [
      ['traceparent', PARENT],
      ['user-agent', 'export-test/1'],
    ]);
    t.is(r.status, i === 5 ? 503 : 200);
  }
  // 4 leave as soon as the batch is full, the other 2 on the next tick.
  await waitFor('6 spans at the receiver', async () => receiver.spans.length >= 6, 10000);
  t.deepEqual(receiver.errors, []);
  t.is(receiver.spans.length, 6);
  t.true(receiver.requests.length >= 2, JSON.stringify(receiver.requests));
  t.true(receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/x-protobuf'));

  // The span each upstream request names as its parent is the exported span.
  const sentParents = upstream.received.map((r) => traceparent(r.headers.traceparent).spanId);
  t.deepEqual(new Set(receiver.spans.map((s) => s.spanId)), new Set(sentParents));
  for (const s of receiver.spans) {
    t.is(s.service, 'orders');
    t.is(s.traceId, PARENT_TRACE);
    t.is(s.parentSpanId, 'b7ad6b7169203331');
    t.is(s.kind, 2);
    t.true(s.endNs > s.startNs, 'a duration');
    t.is(s.attributes['http.request.method'], 'GET');
    t.is(s.attributes['user_agent.original'], 'export-test/1');
    t.is(s.attributes['meshtrace.upstream.cluster'], 'upstream');
    t.is(s.attributes['network.peer.address'], '127.0.0.1');
    t.is(s.attributes['meshtrace.upstream.address'], `127.0.0.1:${upstream.port}`);
    t.is(s.attributes['meshtrace.sampling.reason'], 'parent');
    t.is(s.attributes['http.response.body.size'], 2);
  }
  const failed = receiver.spans.find((s) => s.attributes['url.path'] === '/fail/5');
  t.is(failed?.attributes['http.response.status_code'], 503);
  t.is(failed?.status, 2, '5xx → ERROR');
  t.truthy(receiver.spans.find((s) => s.attributes['url.path'] === '/orders/0'));

  const stats = await envoy.stats('meshtrace.export');
  t.is(stats.get('wasmcustom.meshtrace.export.spans_exported'), 6, [...stats].join('\n'));
  t.is(stats.get('wasmcustom.meshtrace.export.spans_dropped.queue_full'), 0);
});

test('JSON encoding through Envoy, and an unsampled request is not exported', async (t) => {
  const { receiver, envoy, listenPort } = await setup(t, { encoding: 'json', batch_size: 1 });
  t.is((await send(listenPort, '/a', [['traceparent', `00-${PARENT_TRACE}-b7ad6b7169203331-00`]])).status, 200);
  t.is((await send(listenPort, '/b')).status, 200);
  await waitFor('1 span at the receiver', async () => receiver.spans.length >= 1, 10000);
  // Give a wrongly exported unsampled span the time to arrive too (the export is immediate).
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(receiver.errors, []);
  t.is(receiver.spans.length, 1);
  t.is(receiver.requests[0]?.contentType, 'application/json');
  t.is(receiver.spans[0]?.attributes['url.path'], '/b');
  t.is(receiver.spans[0]?.parentSpanId, '', 'a trace this proxy started is a root span');
  const stats = await envoy.stats('meshtrace');
  t.is(stats.get('wasmcustom.meshtrace.requests'), 2);
  t.is(stats.get('wasmcustom.meshtrace.export.spans_exported'), 1);
});

test('a retried request records the resend count, the final status and the code details', async (t) => {
  const receiver = await startOtlpReceiver(t);
  let attempts = 0;
  // The first attempt fails with 503, the retry succeeds.
  const upstream = await startUpstream(t, () => ({ status: attempts++ === 0 ? 503 : 200, body: 'ok' }));
  const listenPort = await freePort();
  await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [wasmHttpFilter(builtFilter(), { export: { cluster: 'otlp', batch_size: 1 } })],
      extraClusters: [localCluster('otlp', [receiver.port])],
      routeExtra: { retry_policy: { retry_on: '5xx', num_retries: 2 } },
    }),
  );
  t.is((await send(listenPort, '/retried', [['traceparent', PARENT]])).status, 200);
  await waitFor('the span at the receiver', async () => receiver.spans.length >= 1, 10000);
  t.is(upstream.received.length, 2);
  const span = receiver.spans[0];
  t.is(span?.attributes['http.request.resend_count'], 1, JSON.stringify(span?.attributes));
  t.is(span?.attributes['http.response.status_code'], 200);
  t.is(span?.attributes['envoy.response_code_details'], 'via_upstream');
});

test('an upstream that cannot be reached: 503 with response flags, span status ERROR', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const listenPort = await freePort();
  const nobody = await freePort();
  await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [nobody],
      httpFilters: [wasmHttpFilter(builtFilter(), { export: { cluster: 'otlp', batch_size: 1 } })],
      extraClusters: [localCluster('otlp', [receiver.port])],
    }),
  );
  t.is((await send(listenPort, '/down', [['traceparent', PARENT]])).status, 503);
  await waitFor('the span at the receiver', async () => receiver.spans.length >= 1, 10000);
  const span = receiver.spans[0];
  t.is(span?.status, 2);
  t.is(span?.attributes['http.response.status_code'], 503);
  // Envoy's legacy bitmask: UpstreamConnectionFailure (UF) is 0x20.
  t.is((Number(span?.attributes['envoy.response_flags']) & 0x20) !== 0, true, JSON.stringify(span?.attributes));
});
