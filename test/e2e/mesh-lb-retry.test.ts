// The load-balancer bootstrap from mesh-config under the real Envoy 1.40, with the real
// meshtrace filter: the first upstream always fails (503), the retry reaches the second.
// One trace must show both attempts — same trace id on each upstream request, a distinct span
// id per attempt (the per-attempt upstream filter), both attempts children of the proxy's span,
// attempt numbers 1 and 2, and the access logs (one line per attempt plus the downstream line)
// carrying trace id and span id. With a `collector` in meshtrace.yaml the filter also exports
// its spans (OTLP/HTTP through the bootstrap's meshtrace_collector cluster) to a real OTLP
// receiver: the proxy's server span, in the client's trace, with http.request.resend_count 1,
// and one client span per upstream attempt beneath it.
// Envoy runs no access-log phase (on_log) in a cluster's upstream filter chain; the filter
// decides each attempt's span at on_done instead.
// Fails (never skips) when Envoy or the built filter is missing.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadBalancerBootstrap, parseConfig } from '../../mesh-config/index.ts';
import { startEnvoy } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './export-receiver.ts';

const WASM = resolve('wasm-filters/build/meshtrace-filter.wasm');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

interface LogLine {
  role: string;
  path: string;
  attempt?: string;
  trace_id: string | null;
  span_id: string | null;
  upstream_host: string | null;
  status: number | string;
  attempts?: number | string;
  traceparent?: string | null;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientParent = '00f067aa0ba902b7';

/**
 * Runs the lb bootstrap with one failing and one healthy upstream until a request has been
 * retried; returns what each attempt's upstream received. `reset: false` removes the context
 * reset from the per-attempt chain (to show why it is there).
 */
async function retriedRequest(t: ExecutionContext, opts: { reset: boolean }) {
  t.true(existsSync(WASM), `${WASM} missing — run \`npm run build:wasm\``);
  const failing = await startUpstream(t, () => ({ status: 503, body: 'down' }));
  const healthy = await startUpstream(t, () => ({ status: 200, body: 'ok' }));
  const port = await freePort();
  const receiver = await startOtlpReceiver(t);
  const cfg = parseConfig({
    version: 1,
    collector: { endpoint: `http://127.0.0.1:${receiver.port}`, protocol: 'otlp_http' },
    load_balancer: {
      port,
      // Listed first and round-robin: request 1 or 2 starts on the failing host.
      upstreams: [`127.0.0.1:${failing.port}`, `127.0.0.1:${healthy.port}`],
      retries: { attempts: 2, retry_on: ['5xx'] },
    },
  });
  const bootstrap = loadBalancerBootstrap(cfg, { wasmFile: WASM });
  // Test probe between the context restore and the per-attempt filter: records, on each
  // attempt, the traceparent the attempt's filter is about to continue (its parent).
  const upstreamChain = (
    bootstrap as {
      static_resources: {
        clusters: { typed_extension_protocol_options: Record<string, { http_filters: unknown[] }> }[];
      };
    }
  ).static_resources.clusters[0]?.typed_extension_protocol_options[
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
  ]?.http_filters;
  t.is(
    (upstreamChain?.[0] as { name?: string } | undefined)?.name,
    'envoy.filters.http.header_mutation',
    'reset first',
  );
  upstreamChain?.splice(1, 0, {
    name: 'envoy.filters.http.header_mutation',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      mutations: {
        request_mutations: [
          {
            append: {
              header: { key: 'x-parent-seen', value: '%REQ(TRACEPARENT)%' },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          },
        ],
      },
    },
  });
  if (!opts.reset) upstreamChain?.splice(0, 1);
  const envoy = await startEnvoy(t, bootstrap, { logLevel: 'warn' });

  // Round robin's starting host is not fixed: send until one request has started on the
  // failing host (at most a few; each is answered by the healthy host either way).
  for (let i = 0; i < 6 && failing.received.length === 0; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/orders/${i}`, {
      headers: { traceparent: `00-${clientTrace}-${clientParent}-01` },
    });
    t.is(res.status, 200, envoy.logs());
    t.is(await res.text(), 'ok');
  }
  t.is(failing.received.length, 1, envoy.logs());
  const first = failing.received[0]!;
  const retried = healthy.received.find((r) => r.url === first.url);
  t.truthy(retried, 'the retry reached the healthy host with the same path');
  t.is(first.headers['x-envoy-attempt-count'], '1');
  t.is(retried?.headers['x-envoy-attempt-count'], '2');
  // Every request reached the healthy host once; only the retried one also reached the failing one.
  const sent = healthy.received.length;
  return { envoy, failing, healthy, first, retried, receiver, sent };
}

test('a retried request shows both attempts in one trace', async (t) => {
  const { envoy, failing, healthy, first, retried } = await retriedRequest(t, { reset: true });
  const a1 = TRACEPARENT.exec(String(first.headers.traceparent));
  const a2 = TRACEPARENT.exec(String(retried?.headers.traceparent));
  t.truthy(a1, `attempt 1 traceparent: ${first.headers.traceparent}`);
  t.truthy(a2, `attempt 2 traceparent: ${retried?.headers.traceparent}`);
  t.is(a1?.[1], clientTrace, 'attempt 1 continues the client trace');
  t.is(a2?.[1], clientTrace, 'attempt 2 continues the same trace');
  t.not(a1?.[2], a2?.[2], 'each attempt has its own span');
  t.not(a1?.[2], clientParent, 'the proxy made its own span for attempt 1');
  t.not(a2?.[2], clientParent, 'the proxy made its own span for attempt 2');

  // Envoy flushes access logs on a timer (10 s by default) and at shutdown: stop, then read.
  await envoy.stop();
  const lines = logLines(envoy.logs()).filter((l) => l.path === first.url);
  const attempts = lines.filter((l) => l.role === 'lb-attempt').sort((x, y) => Number(x.attempt) - Number(y.attempt));
  t.is(attempts.length, 2, `one line per attempt:\n${envoy.logs()}`);
  t.is(attempts[0]?.upstream_host, `127.0.0.1:${failing.port}`);
  t.is(Number(attempts[0]?.status), 503, 'the failed attempt is logged with its 503');
  t.is(attempts[0]?.traceparent, String(first.headers.traceparent), 'attempt 1 log line = what host 1 received');
  t.is(attempts[1]?.upstream_host, `127.0.0.1:${healthy.port}`);
  t.is(Number(attempts[1]?.status), 200);
  t.is(attempts[1]?.traceparent, String(retried?.headers.traceparent), 'attempt 2 log line = what host 2 received');
  const downstream = lines.filter((l) => l.role === 'lb');
  t.is(downstream.length, 1);
  t.is(downstream[0]?.trace_id, clientTrace, 'the request line carries the trace id');
  t.regex(String(downstream[0]?.span_id), /^[0-9a-f]{16}$/, 'and the proxy span id');
  t.not(downstream[0]?.span_id, clientParent);
  t.is(Number(downstream[0]?.attempts), 2, 'the request line records 2 attempts');
  t.is(Number(downstream[0]?.status), 200);

  // Both attempts' spans are children of the proxy's span (siblings), not a chain: each
  // attempt's filter saw the proxy's context, although Envoy hands a retry the headers the
  // previous attempt's filters wrote.
  const lbSpan = `00-${clientTrace}-${downstream[0]?.span_id}-01`;
  t.is(first.headers['x-parent-seen'], lbSpan, 'attempt 1 continues the proxy span');
  t.is(retried?.headers['x-parent-seen'], lbSpan, 'attempt 2 continues the proxy span, not attempt 1');
});

test('with a collector, the retried request arrives as the proxy span plus one client span per attempt, in the client trace', async (t) => {
  const { first, retried, receiver, sent } = await retriedRequest(t, { reset: true });
  // Both attempts continued this span (x-parent-seen, first test), so it is the proxy's span
  // for the retried request.
  const lbSpanId = TRACEPARENT.exec(String(retried?.headers['x-parent-seen']))?.[2];
  t.truthy(lbSpanId, `proxy span from the attempt's parent: ${retried?.headers['x-parent-seen']}`);
  // The filter's tick (export.flush_interval_ms, 1 s) sends the partial batch.
  const span = await waitFor(
    'the proxy span of the retried request at the OTLP receiver',
    () => receiver.spans.find((s) => s.spanId === lbSpanId),
    10000,
  );
  t.deepEqual(receiver.errors, [], 'every export request decodes as OTLP');
  t.true(
    receiver.requests.every((r) => r.path === '/v1/traces'),
    'bare endpoint → /v1/traces',
  );
  t.is(span.traceId, clientTrace, "the proxy span is in the client's trace");
  t.is(span.parentSpanId, clientParent, "a child of the client's span");
  t.is(span.kind, 2, 'SERVER (OTLP SpanKind 2)');
  t.is(span.service, 'backend', "service.name is the load balancer's name");
  t.is(span.attributes['http.request.resend_count'], 1, JSON.stringify(span.attributes));
  t.is(span.attributes['http.response.status_code'], 200, 'the retry answered');
  // Each attempt is a CLIENT span of its own (the per-attempt upstream filter decides it at
  // on_done — Envoy runs no access-log phase there), a child of the proxy span, with the span
  // id that the attempt's upstream host received in its traceparent.
  const attemptSpanIds = [first, retried].map((r) => TRACEPARENT.exec(String(r?.headers.traceparent))?.[2]);
  const attempts = await waitFor(
    'both attempt spans at the OTLP receiver',
    () => {
      const found = attemptSpanIds.map((id) => receiver.spans.find((s) => s.spanId === id));
      return found.every((s) => s !== undefined) ? found : undefined;
    },
    10000,
  );
  t.deepEqual(
    attempts.map((s) => [s?.kind, s?.traceId, s?.parentSpanId]),
    [
      [3, clientTrace, lbSpanId],
      [3, clientTrace, lbSpanId],
    ],
    'CLIENT spans (OTLP SpanKind 3) in the client trace, siblings under the proxy span',
  );
  t.deepEqual(
    attempts.map((s) => [s?.attributes['http.response.status_code'], s?.status]),
    [
      [503, 2],
      [200, 0],
    ],
    'attempt 1 failed with 503 (span status ERROR), attempt 2 answered (UNSET)',
  );
  // Nothing else: round robin may have sent earlier requests straight to the healthy host (a
  // proxy span and one attempt each) before one started on the failing host.
  const expected = await waitFor(
    "every request's spans",
    () => receiver.spans.length >= 2 * sent + 1 || undefined,
    10000,
  );
  t.true(expected);
  t.is(receiver.spans.length, 2 * sent + 1, JSON.stringify(receiver.spans.map((s) => [s.kind, s.spanId])));
  t.is(receiver.spans.filter((s) => s.spanId === lbSpanId || s.parentSpanId === lbSpanId).length, 3);
});

test('without the per-attempt reset, attempt 2 would continue attempt 1 (why the reset exists)', async (t) => {
  const { first, retried } = await retriedRequest(t, { reset: false });
  t.is(retried?.headers['x-parent-seen'], String(first.headers.traceparent), 'Envoy hands the retry attempt 1 headers');
});
