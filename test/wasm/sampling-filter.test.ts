// The sampler wired into the BUILT filter, in the TypeScript Proxy-Wasm host: what goes
// upstream (sampled flag, trace id, tracestate `ot`), what is exported (kept_by, link, debug
// subject) and the counters, for each row of the trust-boundary table of core/sampling/README.md.
import test from 'ava';
import { signDebugToken } from '../../core/sampling/index.ts';
import { decodeBody, type ReceivedSpan } from '../e2e/export-receiver.ts';
import { FakeClock } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SAMPLED = `00-${TRACE}-b7ad6b7169203331-01`;
const SECRET = 'host-test-secret-0123456789abcdef';

async function filter(sampling: Record<string, unknown>, clock = new FakeClock()) {
  const { host, configured } = await loadFilter(
    { service_name: 'edge', export: { cluster: 'otlp', batch_size: 1 }, sampling },
    { clusters: ['otlp'], clock },
  );
  if (!configured) throw new Error(host.logMessages().join('\n'));
  return host;
}

/** One request; returns the headers sent upstream and the span exported for it (if any). */
function request(host: ProxyWasmHost, headers: Record<string, string>, status = 200) {
  const before = host.pendingHttpCalls().length;
  const s = host.newHttpStream();
  s.setProperty('response.code', status);
  s.callOnRequestHeaders(requestHeaders(headers), true);
  const sent = new Map(s.currentRequestHeaders());
  s.callOnResponseHeaders({ ':status': String(status) }, true);
  s.complete();
  const calls = host.pendingHttpCalls().slice(before);
  const spans: ReceivedSpan[] = calls.flatMap((c) =>
    decodeBody(c.body, c.headers.find(([k]) => k === 'content-type')?.[1] ?? ''),
  );
  const tp = (sent.get('traceparent') ?? '').split('-');
  return { sent, traceId: tp[1] ?? '', sampled: (Number.parseInt(tp[3] ?? '0', 16) & 1) === 1, span: spans[0] };
}

test('edge, inbound_context parent: same trace id, the client sampled flag and ot are ignored', async (t) => {
  const host = await filter({ probability: 0 });
  const r = request(host, { traceparent: CLIENT_SAMPLED, tracestate: 'ot=th:0;rv:ffffffffffffff,vendor=a' });
  t.is(r.traceId, TRACE);
  t.false(r.sampled, 'p = 0 at an edge: a client cannot force sampling');
  t.is(r.sent.get('tracestate'), 'vendor=a', 'client-chosen ot (th, rv) dropped, other members kept');
  t.is(r.span, undefined);
  t.is(host.metric('meshtrace.sampling_dropped.probability'), 1);
});

test('edge, inbound_context link: a new trace, the inbound span kept as a link', async (t) => {
  const host = await filter({ probability: 1, trust: { inbound_context: 'link' } });
  const r = request(host, { traceparent: CLIENT_SAMPLED });
  t.not(r.traceId, TRACE);
  t.true(r.sampled);
  t.is(r.sent.get('tracestate'), 'ot=th:0', 'kept by probability 1: th 0');
  const span = r.span!;
  t.is(span.traceId, r.traceId);
  t.is(span.parentSpanId, '', 'a new root');
  t.deepEqual(
    span.links.map((l) => [l.traceId, l.spanId, l.attributes['meshtrace.link.reason']]),
    [[TRACE, 'b7ad6b7169203331', 'untrusted_inbound_context']],
  );
  t.is(span.attributes['meshtrace.sampling.reason'], 'probability');
  t.is(span.attributes['meshtrace.sampling.threshold'], '0');
});

test('internal: the caller decision is honoured and its tracestate passed on unchanged', async (t) => {
  const host = await filter({ probability: 0, trust: { boundary: 'internal' } });
  const r = request(host, { traceparent: CLIENT_SAMPLED, tracestate: 'ot=th:c,vendor=a' });
  t.true(r.sampled);
  t.is(r.sent.get('tracestate'), 'ot=th:c,vendor=a');
  t.is(r.span?.attributes['meshtrace.sampling.reason'], 'parent');
  t.is(r.span?.attributes['meshtrace.sampling.threshold'], 'c');
  t.is(host.metric('meshtrace.sampled.parent'), 1);
});

test('edge: a valid debug token trusts the request, forces a debug keep and is removed', async (t) => {
  const clock = new FakeClock();
  const host = await filter(
    { probability: 0, trust: { debug_token: { keys: [{ id: 'k1', secret: SECRET }] } } },
    clock,
  );
  const nowS = Number(clock.realtimeNs() / 1_000_000_000n);
  const token = signDebugToken('k1', SECRET, nowS + 60, 'ops-7');
  const r = request(host, { traceparent: CLIENT_SAMPLED, 'x-meshtrace-debug-token': token });
  t.true(r.sampled);
  t.is(r.traceId, TRACE, 'trusted: continues the caller trace');
  t.false(r.sent.has('x-meshtrace-debug-token'), 'the token is not forwarded');
  t.is(r.span?.attributes['meshtrace.sampling.reason'], 'debug');
  t.is(r.span?.attributes['meshtrace.debug.subject'], 'ops-7');
  const bad = request(host, { 'x-meshtrace-debug-token': `${token.slice(0, -2)}AA` });
  t.false(bad.sampled);
  t.false(bad.sent.has('x-meshtrace-debug-token'), 'a refused token is not forwarded either');
  t.is(host.metric('meshtrace.debug_token_rejected.bad_signature'), 1);
  clock.advance(61_000);
  t.false(request(host, { 'x-meshtrace-debug-token': token }).sampled, 'the same token after its expiry');
  t.is(host.metric('meshtrace.debug_token_rejected.expired'), 1);
});

test('rules decide before the probability: always, never, and a 5xx still kept after a never', async (t) => {
  const host = await filter({
    probability: 0,
    rules: [
      {
        name: 'hot',
        match: { path_regex: '^/orders/\\d+$', method: 'get', headers: { 'x-hot': '1' } },
        action: 'always',
      },
      { match: { authority: 'SVC.local' }, action: 'never' },
    ],
  });
  const r = request(host, { 'x-hot': '1' });
  t.true(r.sampled);
  t.is(r.span?.attributes['meshtrace.sampling.reason'], 'rule');
  const never = request(host, { 'x-hot': '0' });
  t.false(never.sampled);
  t.is(never.span, undefined);
  const failed = request(host, { 'x-hot': '0' }, 502);
  t.is(failed.span?.attributes['meshtrace.sampling.reason'], 'error');
  t.is(host.metric('meshtrace.sampling_dropped.rule'), 1);
  t.is(host.metric('meshtrace.sampled.rule'), 1);
  t.is(host.metric('meshtrace.sampled.error'), 1);
});

test('final decision: grpc-status in trailers, a reset (no response) and a per-route latency threshold keep the span', async (t) => {
  const clock = new FakeClock();
  const host = await filter(
    { probability: 0, latency: { threshold_ms: 10_000, routes: [{ route: 'checkout', threshold_ms: 50 }] } },
    clock,
  );
  // The reason of the keep, read from the counters (exports beyond max_in_flight wait in the queue).
  const reasons = () => Object.entries(host.metrics()).filter(([k]) => k.startsWith('meshtrace.sampled.'));
  const stream = (opts: { route?: string; status: number; trailers?: Record<string, string>; ms: number }) => {
    const before = new Map(reasons().map(([k, v]) => [k, v.value]));
    const s = host.newHttpStream();
    s.setProperty('response.code', opts.status);
    if (opts.route) s.setProperty('route_name', opts.route);
    s.callOnRequestHeaders(requestHeaders(), true);
    if (opts.status > 0) s.callOnResponseHeaders({ ':status': String(opts.status) }, opts.trailers === undefined);
    if (opts.trailers) s.callOnResponseTrailers(opts.trailers);
    clock.advance(opts.ms);
    s.complete();
    const grew = reasons().filter(([k, v]) => v.value !== (before.get(k) ?? 0));
    return grew[0]?.[0].slice('meshtrace.sampled.'.length);
  };
  t.is(stream({ status: 200, trailers: { 'grpc-status': '14' }, ms: 1 }), 'error', 'gRPC UNAVAILABLE');
  t.is(stream({ status: 200, trailers: { 'grpc-status': '0' }, ms: 1 }), undefined, 'gRPC OK');
  t.is(stream({ status: 0, ms: 1 }), 'error', 'no response');
  t.is(stream({ route: 'checkout', status: 200, ms: 60 }), 'latency', 'over the route threshold');
  t.is(stream({ route: 'search', status: 200, ms: 60 }), undefined, 'under the global threshold');
});
