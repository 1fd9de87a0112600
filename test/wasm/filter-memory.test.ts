// The BUILT filter's linear memory stays flat over many streams: every stream allocates header
// copies and strings (the host hands data over through proxy_on_memory_allocate), so a leak in
// the filter or its runtime shows up as memory growth here long before it would in Envoy.
import test from 'ava';
import { cryptoRandom } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const STREAMS = 20_000;
const WARM_UP = 2_000;

const INBOUND: [string, string][][] = [
  [],
  [
    ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['tracestate', 'congo=t61rcWkgMzE'],
  ],
  [['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1']],
  [['uber-trace-id', '6e0c63257de34c92bf9efcd03927272e:2da5b1c0e1a1b7b0:0:1']],
  [['traceparent', '00-zzzz-bad']],
  [['baggage', `k=${'v'.repeat(2000)}`]],
];

function drive(host: ProxyWasmHost, n: number, offset: number): void {
  for (let i = 0; i < n; i++) {
    const s = host.newHttpStream();
    s.callOnRequestHeaders(requestHeaders(INBOUND[(offset + i) % INBOUND.length]), true);
    s.callOnResponseHeaders({ ':status': '200' }, true);
    s.complete();
  }
}

test(`memory stays flat over ${STREAMS} streams`, async (t) => {
  const { host, configured } = await loadFilter(
    { propagation: { outbound: ['w3c', 'b3', 'b3multi', 'jaeger'] } },
    { random: cryptoRandom },
  );
  t.true(configured);
  drive(host, WARM_UP, 0);
  const afterWarmUp = host.memoryBytes();
  drive(host, STREAMS, WARM_UP);
  const after = host.memoryBytes();
  t.is(host.metric('meshtrace.requests'), WARM_UP + STREAMS);
  t.is(host.liveContexts(), 1, 'every stream context deleted');
  t.is(
    after,
    afterWarmUp,
    `linear memory grew from ${afterWarmUp / 65536} to ${after / 65536} pages over ${STREAMS} streams`,
  );
  t.log(`linear memory: ${afterWarmUp / 65536} pages after warm-up, ${after / 65536} after ${STREAMS} more streams`);
});
