// Span export of the BUILT filter in the TypeScript Proxy-Wasm host: what is sent (OTLP decoded
// with the published protos), when (batch size, tick), and what is dropped and counted (queue
// full, collector error, collector timeout) — the request path never waits on any of it.
import test from 'ava';
import { decodeBody, type ReceivedSpan } from '../e2e/export-receiver.ts';
import { FakeClock } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { HttpCallRecord, ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const UNSAMPLED = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';

function exportConfig(extra: Record<string, unknown> = {}, root: Record<string, unknown> = {}) {
  return { service_name: 'orders', export: { cluster: 'otlp', batch_size: 1, ...extra }, ...root };
}

/** One request through the filter; properties as Envoy would report them at on_log. */
function request(host: ProxyWasmHost, traceparent: string | null, status = 200): void {
  const s = host.newHttpStream();
  s.setProperty('request.method', 'GET');
  s.setProperty('request.url_path', '/orders/42');
  s.setProperty('request.host', 'svc.local');
  s.setProperty('request.scheme', 'http');
  s.setProperty('request.useragent', 'curl/8');
  s.setProperty('request.size', 0);
  s.setProperty('response.size', 17);
  s.setProperty('response.code', status);
  s.setProperty('source.address', '127.0.0.9:41000');
  s.setProperty('upstream.address', '127.0.0.1:8080');
  s.setProperty('xds.cluster_name', 'orders-v1');
  s.setProperty('upstream.request_attempt_count', 2);
  s.setProperty('response.flags', 0x10);
  s.setProperty('route_name', 'orders');
  s.callOnRequestHeaders(requestHeaders(traceparent === null ? {} : { traceparent }), true);
  s.callOnResponseHeaders({ ':status': String(status) }, true);
  s.complete();
}

function spansOf(call: HttpCallRecord): ReceivedSpan[] {
  const ct = call.headers.find(([k]) => k === 'content-type')?.[1] ?? '';
  return decodeBody(call.body, ct);
}

test('a sampled request becomes one OTLP span with HTTP semantic-convention attributes', async (t) => {
  const { host, configured } = await loadFilter(exportConfig(), { clusters: ['otlp'] });
  t.true(configured, host.logMessages().join('\n'));
  request(host, PARENT);
  const calls = host.pendingHttpCalls();
  t.is(calls.length, 1, 'batch_size 1: sent at once');
  const call = calls[0] as HttpCallRecord;
  t.is(call.upstream, 'otlp');
  t.deepEqual(
    call.headers.filter(([k]) => k.startsWith(':') || k === 'content-type'),
    [
      [':method', 'POST'],
      [':path', '/v1/traces'],
      [':authority', 'otlp'],
      ['content-type', 'application/x-protobuf'],
    ],
  );
  t.is(call.timeoutMs, 2000);
  const [span, ...rest] = spansOf(call);
  t.is(rest.length, 0);
  if (!span) return;
  t.is(span.service, 'orders');
  t.is(span.traceId, '0af7651916cd43dd8448eb211c80319c');
  t.is(span.parentSpanId, 'b7ad6b7169203331');
  t.regex(span.spanId, /^[0-9a-f]{16}$/);
  t.not(span.spanId, 'b7ad6b7169203331');
  t.is(span.kind, 2, 'inbound listener → SERVER');
  t.is(span.name, 'GET orders');
  t.true(span.endNs >= span.startNs && span.startNs > 0n);
  t.is(span.status, 0, '2xx on a server span leaves status UNSET');
  t.like(span.attributes, {
    'http.request.method': 'GET',
    'http.route': 'orders',
    'url.path': '/orders/42',
    'url.scheme': 'http',
    'server.address': 'svc.local',
    'user_agent.original': 'curl/8',
    'http.response.status_code': 200,
    'http.request.body.size': 0,
    'http.response.body.size': 17,
    'network.peer.address': '127.0.0.9',
    'network.peer.port': 41000,
    'meshtrace.upstream.address': '127.0.0.1:8080',
    'meshtrace.upstream.cluster': 'orders-v1',
    'http.request.resend_count': 1,
    'envoy.response_flags': 0x10,
    'meshtrace.sampling.reason': 'parent',
  });
  // The upstream saw the span exported as its parent.
  host.respondToHttpCall(call.token);
  t.is(host.metric('meshtrace.export.spans_exported'), 1);
  t.is(host.metric('meshtrace.export.requests'), 1);
});

test('outbound direction exports CLIENT spans; 4xx is an error there, the peer is the upstream', async (t) => {
  const { host } = await loadFilter(exportConfig({}, { direction: 'outbound' }));
  request(host, PARENT, 404);
  const [span] = spansOf(host.pendingHttpCalls()[0] as HttpCallRecord);
  t.is(span?.kind, 3);
  t.is(span?.status, 2);
  t.is(span?.attributes['network.peer.address'], '127.0.0.1');
  t.is(span?.attributes['error.type'], '404');
});

test('a request whose head decision is "not sampled" exports nothing (default final decision)', async (t) => {
  const { host } = await loadFilter(exportConfig());
  request(host, UNSAMPLED);
  host.tick();
  t.is(host.pendingHttpCalls().length, 0);
  t.is(host.metric('meshtrace.requests'), 1);
});

test('a partial batch waits for the tick; the tick period is flush_interval_ms', async (t) => {
  const { host } = await loadFilter(exportConfig({ batch_size: 10, flush_interval_ms: 250 }));
  t.is(host.tickPeriodMs, 250);
  for (let i = 0; i < 3; i++) request(host, null);
  t.is(host.pendingHttpCalls().length, 0, 'below batch size: nothing sent on the request path');
  t.true(host.tick());
  const calls = host.pendingHttpCalls();
  t.is(calls.length, 1);
  const spans = spansOf(calls[0] as HttpCallRecord);
  t.is(spans.length, 3);
  t.is(new Set(spans.map((s) => s.traceId)).size, 3, 'three new traces');
  t.true(spans.every((s) => s.parentSpanId === '' && s.attributes['meshtrace.sampling.reason'] === 'probability'));
});

test('a full queue drops new spans and counts queue_full; in-flight requests are bounded', async (t) => {
  const { host } = await loadFilter(exportConfig({ batch_size: 2, queue_size: 2, max_in_flight: 1 }));
  for (let i = 0; i < 5; i++) request(host, PARENT);
  // 2 sent (one request in flight), 2 queued behind it, the 5th dropped.
  t.is(host.pendingHttpCalls().length, 1);
  t.is(host.metric('meshtrace.export.spans_dropped.queue_full'), 1);
  t.is(host.metric('meshtrace.requests'), 5);
  const first = host.pendingHttpCalls()[0] as HttpCallRecord;
  host.respondToHttpCall(first.token);
  // The answer frees the slot: the queued batch goes at once.
  const next = host.pendingHttpCalls();
  t.is(next.length, 1);
  t.is(spansOf(next[0] as HttpCallRecord).length, 2);
  host.respondToHttpCall((next[0] as HttpCallRecord).token);
  t.is(host.metric('meshtrace.export.spans_exported'), 4);
});

test('collector failures drop the batch by reason, never retried, logged once per run of failures', async (t) => {
  const clock = new FakeClock();
  const { host } = await loadFilter(exportConfig({ batch_size: 2, max_in_flight: 4, timeout_ms: 1000 }), { clock });
  for (let i = 0; i < 8; i++) request(host, PARENT);
  const [a, b, c, d] = host.pendingHttpCalls() as HttpCallRecord[];
  if (!a || !b || !c || !d) return t.fail('expected four export requests');
  host.respondToHttpCall(a.token, { headers: { ':status': '500' } });
  host.failHttpCall(b.token); // connection failed, answered at once
  host.respondToHttpCall(c.token, { headers: { ':status': '504' }, body: 'upstream request timeout' });
  clock.advance(1500);
  host.failHttpCall(d.token); // no answer within the timeout
  t.is(host.metric('meshtrace.export.spans_dropped.collector_error'), 4);
  t.is(host.metric('meshtrace.export.spans_dropped.collector_timeout'), 4);
  t.is(host.metric('meshtrace.export.spans_exported') ?? 0, 0);
  t.is(host.pendingHttpCalls().length, 0, 'no retries');
  const warnings = host.logMessages('warn').filter((m) => m.includes('export'));
  t.is(warnings.length, 1, warnings.join('\n'));
  t.regex(warnings[0] ?? '', /collector answered 500; 2 spans dropped/);
});

test('JSON encoding: the same span as OTLP/JSON', async (t) => {
  const { host } = await loadFilter(exportConfig({ encoding: 'json', path: '/otlp/v1/traces', authority: 'c:4318' }));
  request(host, PARENT, 503);
  const call = host.pendingHttpCalls()[0] as HttpCallRecord;
  t.deepEqual(
    call.headers.filter(([k]) => k === ':path' || k === ':authority' || k === 'content-type'),
    [
      [':path', '/otlp/v1/traces'],
      [':authority', 'c:4318'],
      ['content-type', 'application/json'],
    ],
  );
  const [span] = spansOf(call);
  t.is(span?.traceId, '0af7651916cd43dd8448eb211c80319c');
  t.is(span?.parentSpanId, 'b7ad6b7169203331');
  t.is(span?.status, 2, '5xx → ERROR');
  t.is(span?.attributes['http.response.status_code'], 503);
  t.is(span?.attributes['user_agent.original'], 'curl/8');
});

test('attribute values are bounded: a huge user agent is cut to 512 characters', async (t) => {
  const { host } = await loadFilter(exportConfig());
  const s = host.newHttpStream();
  s.setProperty('request.useragent', `x${'y'.repeat(20000)}"\n`);
  s.callOnRequestHeaders(requestHeaders({ traceparent: PARENT }), true);
  s.callOnResponseHeaders({ ':status': '200' }, true);
  s.complete();
  const [span] = spansOf(host.pendingHttpCalls()[0] as HttpCallRecord);
  t.is(String(span?.attributes['user_agent.original']).length, 512);
});

test('no export section: nothing is queued and no tick is set', async (t) => {
  const { host } = await loadFilter({});
  t.is(host.tickPeriodMs, 0);
  request(host, PARENT);
  t.is(host.pendingHttpCalls().length, 0);
  t.is(host.metric('meshtrace.export.spans_exported'), undefined);
});

const BAD: [string, unknown, string][] = [
  ['missing cluster', { export: {} }, 'export.cluster: required'],
  ['cluster not a string', { export: { cluster: 3 } }, 'export.cluster: expected a string, got number'],
  ['unknown encoding', { export: { cluster: 'c', encoding: 'xml' } }, 'export.encoding: must be "protobuf" or "json"'],
  ['batch_size 0', { export: { cluster: 'c', batch_size: 0 } }, 'export.batch_size: must be between 1 and 1024'],
  ['fractional timeout', { export: { cluster: 'c', timeout_ms: 1.5 } }, 'export.timeout_ms: expected an integer'],
  [
    'queue below batch',
    { export: { cluster: 'c', batch_size: 10, queue_size: 5 } },
    'export.queue_size: must be at least batch_size',
  ],
  ['path without slash', { export: { cluster: 'c', path: 'v1/traces' } }, 'export.path: must start with "/"'],
  ['unknown key', { export: { cluster: 'c', flush_ms: 5 } }, 'export.flush_ms: unknown key'],
  ['not an object', { export: 'otlp' }, 'export: expected an object, got string'],
];

for (const [name, config, message] of BAD) {
  test(`refused: ${name}`, async (t) => {
    const { host, configured } = await loadFilter(config as object);
    t.false(configured);
    const errors = host.logMessages('error').join('\n');
    t.true(errors.includes(`meshtrace: config: ${message}`), errors);
  });
}
