// Linear memory stays flat while exporting: every sampled stream encodes a span into the queue,
// batches leave through http_call and are answered (or fail) — queued spans, batch buffers and
// outstanding-request bookkeeping must all be reclaimed, whatever the collector does.
import test from 'ava';
import { cryptoRandom } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const STREAMS = 10_000;
const WARM_UP = 2_000;
const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Streams, with the collector answering 200, 500, or failing the connection in turn. */
function drive(host: ProxyWasmHost, n: number): void {
  let answer = 0;
  for (let i = 0; i < n; i++) {
    const s = host.newHttpStream();
    s.setProperty('request.useragent', `agent/${i}`);
    s.setProperty('response.code', 200);
    s.callOnRequestHeaders(requestHeaders({ traceparent: PARENT }), true);
    s.callOnResponseHeaders({ ':status': '200' }, true);
    s.complete();
    for (const call of host.pendingHttpCalls()) {
      const kind = answer++ % 3;
      if (kind === 0) host.respondToHttpCall(call.token);
      else if (kind === 1) host.respondToHttpCall(call.token, { headers: { ':status': '500' } });
      else host.failHttpCall(call.token);
    }
  }
}

test(`memory stays flat over ${STREAMS} exported streams`, async (t) => {
  const { host, configured } = await loadFilter(
    { export: { cluster: 'otlp', batch_size: 16, queue_size: 64 } },
    { random: cryptoRandom },
  );
  t.true(configured, host.logMessages().join('\n'));
  drive(host, WARM_UP);
  const afterWarmUp = host.memoryBytes();
  drive(host, STREAMS);
  const after = host.memoryBytes();
  const sent = host.metric('meshtrace.export.requests') ?? 0;
  t.is(sent, (WARM_UP + STREAMS) / 16, 'every full batch was sent');
  const exported = host.metric('meshtrace.export.spans_exported') ?? 0;
  const failed = host.metric('meshtrace.export.spans_dropped.collector_error') ?? 0;
  t.is(exported + failed, WARM_UP + STREAMS, 'every span exported or counted as dropped');
  t.is(
    after,
    afterWarmUp,
    `linear memory grew from ${afterWarmUp / 65536} to ${after / 65536} pages over ${STREAMS} streams`,
  );
});
