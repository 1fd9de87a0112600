// Real Envoy 1.40 with envoy.filters.http.ext_authz → `meshtrace ext-authz` (child process):
// allow with trace headers added, enrichment as dynamic metadata, deny only by a configured rule.
import test, { type ExecutionContext } from 'ava';
import { extAuthzFilter } from '../../ext-authz/envoy-config.ts';
import { grpcCluster } from '../../mesh-config/envoy/ext-service.ts';
import { proxyBootstrap, startEnvoy } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import {
  jsonAccessLog,
  makeKeys,
  readAccessLog,
  startServiceProcess,
  tempFile,
  writeConfig,
} from './support/service.ts';

const INBOUND_TRACE = '0af7651916cd43dd8448eb211c80319c';
const INBOUND_SPAN = 'b7ad6b7169203331';
const COOKIE_SECRET = 'authz-cookie-9d8e7f';
const QUERY_SECRET = 'authz-query-1a2b3c';

async function setup(t: ExecutionContext) {
  const keys = await makeKeys();
  const otlp = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const config = writeConfig({
    listen: { port: 0 },
    serviceName: 'edge-ext-authz',
    otlp: { endpoint: otlp.url, scheduledDelayMs: 50 },
    enrich: { headers: ['x-tenant'], jwt: { jwksFile: keys.jwksFile, claims: { sub: 'enduser.id' } } },
    authz: { deny: [{ name: 'admin-needs-login', pathPrefix: '/admin', unlessVerifiedJwt: true, status: 401 }] },
  });
  const svc = await startServiceProcess(t, 'ext-authz', config);
  const listenPort = await freePort();
  const accessLog = tempFile('access.log');
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [extAuthzFilter({ cluster: 'meshtrace_ext', timeout: '1s' })],
      extraClusters: [grpcCluster('meshtrace_ext', '127.0.0.1', svc.port)],
      hcmExtra: {
        access_log: [
          jsonAccessLog(accessLog, {
            path: '%REQ(:PATH)%',
            status: '%RESPONSE_CODE%',
            meta: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:meshtrace)%',
          }),
        ],
      },
    }),
  );
  return { keys, otlp, upstream, svc, envoy, accessLog, base: `http://127.0.0.1:${listenPort}` };
}

test('ext_authz: allowed request reaches upstream with our traceparent; span and dynamic metadata carry the enrichment, no secrets', async (t) => {
  const { keys, otlp, upstream, svc, envoy, accessLog, base } = await setup(t);
  const jwt = await keys.sign({ sub: 'bob' });
  const res = await fetch(`${base}/orders?access_token=${QUERY_SECRET}`, {
    headers: {
      authorization: `Bearer ${jwt}`,
      cookie: `sid=${COOKIE_SECRET}`,
      'x-tenant': 'globex',
      traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01`,
      'x-b3-traceid': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'x-b3-spanid': 'aaaaaaaaaaaaaaaa',
    },
  });
  t.is(res.status, 200, envoy.logs());
  const got = upstream.received[0]?.headers;
  const [, traceId, parentId] = String(got?.traceparent).split('-');
  t.is(traceId, INBOUND_TRACE);
  t.not(parentId, INBOUND_SPAN);
  t.is(got?.['x-b3-traceid'], undefined, 'stale inbound b3 headers are removed');

  const span = await waitFor('the ext_authz span', () => otlp.spans.find((s) => s.traceId === INBOUND_TRACE), 10000);
  t.is(span.spanId, parentId ?? '');
  t.is(span.parentSpanId, INBOUND_SPAN);
  t.is(span.attributes['enduser.id'], 'bob');
  t.deepEqual(span.attributes['http.request.header.x-tenant'], ['globex']);
  t.is(span.attributes['url.query'], 'access_token=REDACTED');
  t.is(span.attributes['meshtrace.authz.decision'], 'allow');
  t.is(span.attributes['client.address'], '127.0.0.1');

  const line = await waitFor(
    'the access log line',
    () => readAccessLog(accessLog).find((l) => l.path?.toString().startsWith('/orders')),
    10000,
  );
  const meta = line.meta as Record<string, unknown>;
  t.is(meta['enduser.id'], 'bob', JSON.stringify(line));
  t.deepEqual(meta['http.request.header.x-tenant'], ['globex']);

  const exported = Buffer.concat(otlp.raw).toString('latin1');
  // The access log's own path field holds the raw query; only our metadata is checked.
  const logged = `${svc.output()}\n${JSON.stringify(readAccessLog(accessLog).map((l) => l.meta))}`;
  for (const secret of [jwt, COOKIE_SECRET, QUERY_SECRET]) {
    t.false(exported.includes(secret), `exported bytes contain ${secret.slice(0, 12)}…`);
    t.false(logged.includes(secret), `logs or metadata contain ${secret.slice(0, 12)}…`);
  }
});

test('ext_authz: a deny rule answers with its status without a verified JWT and allows with one', async (t) => {
  const { keys, otlp, upstream, base } = await setup(t);
  const denied = await fetch(`${base}/admin/users`);
  t.is(denied.status, 401);
  t.regex(await denied.text(), /admin-needs-login/);
  const forged = await fetch(`${base}/admin/users`, {
    headers: { authorization: `Bearer ${await keys.forge({ sub: 'eve' })}` },
  });
  t.is(forged.status, 401, 'an unverified token does not satisfy the rule');
  t.is(upstream.received.length, 0);
  const allowed = await fetch(`${base}/admin/users`, {
    headers: { authorization: `Bearer ${await keys.sign({ sub: 'root' })}` },
  });
  t.is(allowed.status, 200);
  t.is(upstream.received.length, 1);
  const spans = await waitFor('three authz spans', () => (otlp.spans.length >= 3 ? otlp.spans : undefined), 10000);
  const decisions = spans.map((s) => s.attributes['meshtrace.authz.decision']).sort();
  t.deepEqual(decisions, ['allow', 'deny', 'deny']);
  t.true(
    spans
      .filter((s) => s.attributes['meshtrace.authz.decision'] === 'deny')
      .every((s) => s.attributes['meshtrace.authz.denied_by'] === 'admin-needs-login'),
  );
});
