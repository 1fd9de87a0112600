// Settles the open question in shared/notes/proxy-wasm.md: with Envoy's own tracing on
// (HCM `tracing` with the OpenTelemetry tracer), does the router overwrite the traceparent the
// filter set? The answer found here is written down in wasm-filters/README.md.
import test from 'ava';
import { localCluster, proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';
import { builtFilter, send, traceparent } from './filter-support.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** HCM tracing with the OTel tracer; its exports go to a port where nothing listens (dropped). */
async function tracingHcm() {
  const sinkPort = await freePort();
  return {
    extraClusters: [
      localCluster('otel_sink', [sinkPort], {
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
          },
        },
      }),
    ],
    hcmExtra: {
      tracing: {
        random_sampling: { value: 100 },
        provider: {
          name: 'envoy.tracers.opentelemetry',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
            grpc_service: { envoy_grpc: { cluster_name: 'otel_sink' }, timeout: '0.25s' },
            service_name: 'envoy-under-test',
          },
        },
      },
    },
  };
}

async function tracedProxy(t: import('ava').ExecutionContext, envoyTracing: boolean) {
  const upstream = await startUpstream(t);
  const port = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort: port,
      upstreamPorts: [upstream.port],
      httpFilters: [wasmHttpFilter(builtFilter(), { propagation: { outbound: ['w3c', 'b3'] } })],
      ...(envoyTracing ? await tracingHcm() : {}),
    }),
  );
  return { upstream, port, envoy };
}

// The filter's own span is visible to the client as the traceresponse span id; the b3 header
// (which the OTel tracer does not write) shows what the filter injected.
test('Envoy tracing on, inbound context: the router overwrites traceparent with its own span', async (t) => {
  const { upstream, port, envoy } = await tracedProxy(t, true);
  const reply = await send(port, '/', [['traceparent', `00-${TRACE}-${SPAN}-01`]]);
  t.is(reply.status, 200, envoy.logs());
  const got = upstream.received[0]?.headers ?? {};
  const filterSpan = traceparent(reply.headers['traceresponse']);
  const up = traceparent(got['traceparent']);
  t.is(got['b3'], `${TRACE}-${filterSpan.spanId}-1`, 'b3 is what the filter injected');
  t.is(up.traceId, TRACE, 'same trace: Envoy extracted the same inbound traceparent');
  t.not(up.spanId, filterSpan.spanId, "traceparent carries Envoy's span, not the filter's");
  t.not(up.spanId, SPAN);
});

test('Envoy tracing on, no inbound context: traceparent and the filter disagree on the trace', async (t) => {
  const { upstream, port } = await tracedProxy(t, true);
  const reply = await send(port, '/');
  const got = upstream.received[0]?.headers ?? {};
  const filterSpan = traceparent(reply.headers['traceresponse']);
  const up = traceparent(got['traceparent']);
  t.is(got['b3'], `${filterSpan.traceId}-${filterSpan.spanId}-1`);
  t.not(up.traceId, filterSpan.traceId, 'Envoy started its own trace and its traceparent won');
});

test("Envoy tracing off (control): the filter's traceparent reaches the upstream", async (t) => {
  const { upstream, port } = await tracedProxy(t, false);
  const reply = await send(port, '/', [['traceparent', `00-${TRACE}-${SPAN}-01`]]);
  const got = upstream.received[0]?.headers ?? {};
  t.deepEqual(traceparent(got['traceparent']), traceparent(reply.headers['traceresponse']));
});
