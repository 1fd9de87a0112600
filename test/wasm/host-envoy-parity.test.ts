// The host is only useful if it behaves like Envoy. The same requests go through the BUILT
// filter twice — once in real Envoy 1.40 in front of a real upstream, once in the TypeScript
// host — and what leaves the proxy must have the same shape: the same propagation headers in
// the same order, the same trace ids and flags (span ids are random in both), the same
// traceresponse, and the same counters.
import test from 'ava';
import { loadFilter, requestHeaders, FILTER_WASM } from '../support/proxy-wasm-host/filter.ts';
import { proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';

const CONFIG = { propagation: { outbound: ['w3c', 'b3', 'jaeger'] } };
const PROPAGATION = /^(traceparent|tracestate|b3|x-b3-.*|uber-trace-id)$/;
const SPAN_IDS = /\b[0-9a-f]{16}\b/g;

const CASES: { name: string; headers: [string, string][] }[] = [
  { name: 'none', headers: [] },
  { name: 'w3c', headers: [['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']] },
  {
    name: 'b3 multi with stale traceparent',
    headers: [
      ['x-b3-traceid', '463ac35c9f6413ad48485a3953bb6124'],
      ['x-b3-spanid', 'a2fb4a1d1a96d312'],
      ['x-b3-sampled', '1'],
      ['traceparent', 'not-a-traceparent'],
    ],
  },
  { name: 'jaeger', headers: [['uber-trace-id', '6e0c63257de34c92bf9efcd03927272e:2da5b1c0e1a1b7b0:0:1']] },
];

/** Header pairs with span ids masked; a fresh trace id (none inbound) is masked too. */
function shape(pairs: [string, string][], inboundTrace: boolean): string[] {
  return pairs
    .filter(([k]) => PROPAGATION.test(k))
    .map(([k, v]) => {
      let masked = v.replace(/[0-9a-f]{32}/g, (m) => (inboundTrace ? m : 'T'.repeat(32)));
      masked = masked.replace(SPAN_IDS, 'S'.repeat(16));
      return `${k}: ${masked}`;
    });
}

test('the host and real Envoy forward the same trace headers and count the same', async (t) => {
  const upstream = await startUpstream(t);
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({ listenPort, upstreamPorts: [upstream.port], httpFilters: [wasmHttpFilter(FILTER_WASM, CONFIG)] }),
  );
  const { host, configured } = await loadFilter(CONFIG);
  t.true(configured);

  for (const c of CASES) {
    const res = await fetch(`http://127.0.0.1:${listenPort}/orders/42`, { headers: c.headers });
    await res.text();
    t.is(res.status, 200, envoy.logs());
    const received = upstream.received.at(-1);
    const viaEnvoy: [string, string][] = [];
    for (let i = 0; i + 1 < (received?.rawHeaders.length ?? 0); i += 2) {
      viaEnvoy.push([String(received?.rawHeaders[i]).toLowerCase(), String(received?.rawHeaders[i + 1])]);
    }

    const s = host.newHttpStream();
    s.callOnRequestHeaders(requestHeaders(c.headers), true);
    s.callOnResponseHeaders({ ':status': '200' }, false);
    const viaHost = s.currentRequestHeaders();
    const hostResponse = s.currentResponseHeaders();
    s.complete();

    const inboundTrace = c.headers.length > 0;
    t.true(shape(viaEnvoy, inboundTrace).length >= 3, `${c.name}: ${JSON.stringify(viaEnvoy)}`);
    t.deepEqual(shape(viaHost, inboundTrace), shape(viaEnvoy, inboundTrace), c.name);
    const envoyTr = res.headers.get('traceresponse') ?? '';
    const hostTr = hostResponse.find(([k]) => k === 'traceresponse')?.[1] ?? '';
    t.regex(envoyTr, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/, c.name);
    t.deepEqual(
      shape([['traceparent', hostTr]], inboundTrace),
      shape([['traceparent', envoyTr]], inboundTrace),
      c.name,
    );
  }

  const stats = await envoy.stats('meshtrace');
  const hostMetrics = host.metrics();
  for (const name of ['meshtrace.requests', 'meshtrace.traces_started', 'meshtrace.contexts_continued']) {
    const envoyValue = [...stats.entries()].find(([k]) => k.endsWith(name))?.[1];
    t.is(typeof envoyValue, 'number', `${name} missing from Envoy stats`);
    t.is(envoyValue, hostMetrics[name]?.value, `${name}: envoy stats ${JSON.stringify([...stats])}`);
  }
});
