// One span per hop with ext_proc beside the filter: real Envoy 1.40 runs the meshtrace wasm filter
// (exporting OTLP/HTTP through Envoy's own http_call) and envoy.filters.http.ext_proc →
// `meshtrace ext-proc` in `metadata` mode (child process). The service files the enrichment as
// dynamic metadata (namespace meshtrace); the filter copies it onto its own span at on_log.
// Both the filter and the service are pointed at the same real OTLP receiver, so "one span"
// counts every source.
import test from 'ava';
import { extProcFilter } from '../../ext-authz/envoy-config.ts';
import { grpcCluster } from '../../mesh-config/envoy/ext-service.ts';
import { startOtlpReceiver } from '../ext-authz/support/otlp-receiver.ts';
import { makeKeys, startServiceProcess, writeConfig } from '../ext-authz/support/service.ts';
import { localCluster, proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { builtFilter, traceparent } from './filter-support.ts';

const INBOUND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INBOUND_SPAN = '00f067aa0ba902b7';
const COOKIE_SECRET = 'cookiesecret-0d41e8';
const QUERY_SECRET = 'querysecret-9a7c33';

test('ext_proc metadata mode beside the exporting filter: one span per request, from the filter, carrying the verified user and the allow-listed header, no secret exported', async (t) => {
  const keys = await makeKeys();
  const otlp = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const config = writeConfig({
    listen: { port: 0 },
    mode: 'metadata',
    serviceName: 'edge-ext-proc',
    otlp: { endpoint: otlp.url, scheduledDelayMs: 50 },
    enrich: {
      headers: ['x-tenant'],
      jwt: {
        jwksFile: keys.jwksFile,
        issuer: 'https://issuer.test',
        claims: { sub: 'enduser.id', plan: 'meshtrace.plan' },
      },
    },
  });
  const svc = await startServiceProcess(t, 'ext-proc', config);
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [
        wasmHttpFilter(builtFilter(), {
          service_name: 'edge',
          propagation: { inbound: ['w3c'], outbound: ['w3c'] },
          export: { cluster: 'otlp', batch_size: 1 },
        }),
        extProcFilter({ cluster: 'meshtrace_ext', timeout: '1s' }),
      ],
      extraClusters: [grpcCluster('meshtrace_ext', '127.0.0.1', svc.port), localCluster('otlp', [otlp.port])],
    }),
  );

  const jwt = await keys.sign({ sub: 'erin', plan: 'gold' });
  const users = ['erin', 'erin', 'erin'];
  for (let i = 0; i < users.length; i++) {
    const res = await fetch(`http://127.0.0.1:${listenPort}/hop/${i}?token=${QUERY_SECRET}`, {
      headers: {
        authorization: `Bearer ${jwt}`,
        cookie: `session=${COOKIE_SECRET}`,
        'x-tenant': 'umbrella',
        'x-not-listed': 'nope',
        traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01`,
      },
    });
    t.is(res.status, 200, envoy.logs());
  }
  await waitFor('3 spans at the receiver', () => otlp.spans.length >= 3, 10000);
  // Ten service export intervals (scheduledDelayMs 50): a second span per hop would be here.
  await new Promise((r) => setTimeout(r, 500));
  t.is(otlp.spans.length, 3, JSON.stringify(otlp.spans.map((s) => [s.resource['service.name'], s.name])));

  const parents = upstream.received.map((r) => traceparent(r.headers.traceparent).spanId);
  for (const span of otlp.spans) {
    t.is(span.resource['service.name'], 'edge', 'the span is the filter’s');
    t.is(span.traceId, INBOUND_TRACE);
    t.is(span.parentSpanId, INBOUND_SPAN);
    t.true(parents.includes(span.spanId), 'the upstream’s parent is the exported span');
    const a = span.attributes;
    t.is(a['enduser.id'], 'erin', JSON.stringify(a));
    t.is(a['meshtrace.plan'], 'gold');
    t.is(a['meshtrace.jwt.verified'], 'true');
    t.is(a['http.request.header.x-tenant'], 'umbrella');
    t.is(a['http.request.header.x-not-listed'], undefined);
    t.is(a['url.query'], 'token=REDACTED');
    // The filter's own facts are not duplicated by the metadata copy.
    t.is(a['http.response.status_code'], 200);
    t.true(String(a['url.path']).startsWith('/hop/'));
  }
  t.deepEqual(new Set(otlp.spans.map((s) => s.attributes['url.path'])), new Set(['/hop/0', '/hop/1', '/hop/2']));

  const exported = Buffer.concat(otlp.raw).toString('latin1');
  for (const secret of [jwt, jwt.split('.')[2] ?? jwt, COOKIE_SECRET, QUERY_SECRET, 'Bearer']) {
    t.false(exported.includes(secret), `exported bytes contain ${secret.slice(0, 12)}…`);
  }
  const stats = await envoy.stats('meshtrace.export');
  t.is(stats.get('wasmcustom.meshtrace.export.spans_exported'), 3, [...stats].join('\n'));
});

// Any filter may write the namespace, so the filter enforces its own bounds: here Envoy's
// header_to_metadata filter copies request headers into `meshtrace` untouched.
test('whatever writes the meshtrace namespace: token/cookie/authorization keys are never copied, values are cut at 512 chars, numbers become ints, the filter keeps its own attributes', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const listenPort = await freePort();
  const rule = (header: string, key: string, type = 'STRING') => ({
    header,
    on_header_present: { metadata_namespace: 'meshtrace', key, type },
    remove: false,
  });
  const many = Array.from({ length: 40 }, (_, i) => rule('x-many', `meshtrace.many.${String(i).padStart(2, '0')}`));
  await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [
        {
          name: 'envoy.filters.http.header_to_metadata',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_to_metadata.v3.Config',
            request_rules: [
              rule('x-secret', 'session.token'),
              rule('x-secret', 'http.request.header.cookie'),
              rule('x-secret', 'Authorization'),
              rule('x-long', 'meshtrace.long'),
              rule('x-num', 'meshtrace.count', 'NUMBER'),
              rule('x-method', 'http.request.method'),
              ...many,
            ],
          },
        },
        wasmHttpFilter(builtFilter(), { service_name: 'edge', export: { cluster: 'otlp', batch_size: 1 } }),
      ],
      extraClusters: [localCluster('otlp', [receiver.port])],
    }),
  );
  const SECRET = 'metadatasecret-5e21aa';
  const res = await fetch(`http://127.0.0.1:${listenPort}/bounded`, {
    headers: {
      'x-secret': SECRET,
      'x-long': 'L'.repeat(2000),
      'x-num': '42',
      'x-method': 'FORGED',
      traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01`,
    },
  });
  t.is(res.status, 200);
  // Envoy hands the namespace over in map order, so the 40-entry case is a request of its own.
  const many40 = await fetch(`http://127.0.0.1:${listenPort}/many`, {
    headers: { 'x-many': 'v', traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01` },
  });
  t.is(many40.status, 200);
  await waitFor('2 spans', () => receiver.spans.length >= 2, 10000);
  const a = receiver.spans.find((s) => s.attributes['url.path'] === '/bounded')?.attributes ?? {};
  t.is(a['meshtrace.long'], 'L'.repeat(512), 'cut at 512');
  t.is(a['meshtrace.count'], 42);
  t.is(a['http.request.method'], 'GET', "the filter's own value wins over the namespace's");
  t.false(Buffer.concat(receiver.raw).toString('latin1').includes(SECRET), 'no secret-named key copied');
  const m = receiver.spans.find((s) => s.attributes['url.path'] === '/many')?.attributes ?? {};
  const copied = Object.keys(m).filter((k) => k.startsWith('meshtrace.many.'));
  t.true(copied.length > 0 && copied.length < 40, `entries bounded: ${copied.length}`);
  t.true(Object.keys(m).length <= 32, `at most 32 attributes: ${Object.keys(m).length}`);
  t.is(m['meshtrace.sampling.reason'], 'parent', 'the filter’s trailing attributes still fit');
});
