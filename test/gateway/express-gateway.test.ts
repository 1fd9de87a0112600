// e2e: a real express-gateway (child process, generated config) with the meshtrace plugin, in
// front of real upstream HTTP servers, exporting to a real OTLP/HTTP protobuf receiver.
import test from 'ava';
import type { Span } from '../../analysis/model.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';
import { startGateway, startGatewayExpectingFailure } from './gateway-process.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';

const INBOUND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INBOUND_SPAN = '00f067aa0ba902b7';

const byTrace = (spans: Span[], traceId: string) => spans.filter((s) => s.traceId === traceId);

test('express-gateway: propagation, retry attempt spans, timeout, error bias at 0 %', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const up = await startUpstream(t, (r) => (r.url.startsWith('/err') ? { status: 503 } : { body: 'from-up' }));
  const slow = await startUpstream(t, () => ({ delayMs: 2000 }));
  const dead = await freePort(); // nothing listens: connection refused
  const gw = await startGateway(t, {
    meshtrace: {
      service_name: 'edge-gateway',
      otlp_url: receiver.url,
      export: { flush_interval_ms: 100 },
      propagation: { inbound: ['w3c', 'b3'], outbound: ['w3c', 'b3multi'] },
      sampling: {
        probability: 0,
        rules: [
          { name: 'traced', match: { path_prefix: '/eg' }, action: 'always' },
          { name: 'lb', match: { path_prefix: '/lb' }, action: 'always' },
        ],
        trust: { boundary: 'internal' },
      },
    },
    serviceEndpoints: { up: { url: `http://127.0.0.1:${up.port}` } },
    pipelines: {
      eg: {
        paths: ['/eg/*', '/err/*', '/quiet/*'],
        policies: [{ meshtrace: [] }, { proxy: [{ action: { serviceEndpoint: 'up' } }] }],
      },
      lb: {
        paths: ['/lb/*'],
        policies: [
          { meshtrace: [] },
          {
            'meshtrace-lb': [
              { action: { endpoints: [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${up.port}`], retries: 1 } },
            ],
          },
        ],
      },
      slow: {
        paths: ['/slow/*'],
        policies: [
          { meshtrace: [] },
          {
            'meshtrace-lb': [
              { action: { endpoints: [`http://127.0.0.1:${slow.port}`], retries: 0, attempt_timeout_ms: 300 } },
            ],
          },
        ],
      },
    },
  });

  // 0. A 200 at 0 % with no rule: not kept (sent first; later exports prove it would have arrived).
  const quiet = await fetch(`${gw.url}/quiet/x`);
  t.is(quiet.status, 200, gw.logs());
  const quietTrace = quiet.headers.get('traceresponse')?.split('-')[1] ?? '';

  // 1. Through express-gateway's own proxy: inbound parent honoured, our span injected.
  const res = await fetch(`${gw.url}/eg/orders?id=7`, {
    headers: {
      traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01`,
      tracestate: 'vendor=1',
      authorization: 'Bearer secret-token',
    },
  });
  t.is(res.status, 200, gw.logs());
  t.is(await res.text(), 'from-up');
  const seen = up.received.find((r) => r.url === '/eg/orders?id=7');
  const tp = String(seen?.headers['traceparent'] ?? '');
  t.regex(tp, new RegExp(`^00-${INBOUND_TRACE}-[0-9a-f]{16}-0[13]$`), 'upstream got the trace with a new parent');
  const gatewaySpanId = tp.split('-')[2]!;
  t.not(gatewaySpanId, INBOUND_SPAN);
  t.is(seen?.headers['x-b3-traceid'], INBOUND_TRACE, 'b3multi injected too');
  t.is(seen?.headers['x-b3-spanid'], gatewaySpanId);
  t.regex(res.headers.get('traceresponse') ?? '', new RegExp(`^00-${INBOUND_TRACE}-${gatewaySpanId}-0[13]$`));

  const [server] = byTrace(
    await receiver.waitForSpans('gateway server span', (s) => byTrace(s, INBOUND_TRACE).length > 0),
    INBOUND_TRACE,
  );
  t.is(server?.spanId, gatewaySpanId);
  t.is(server?.parentSpanId, INBOUND_SPAN);
  t.is(server?.kind, 'server');
  t.is(server?.service, 'edge-gateway');
  t.is(server?.attributes['eg.api_endpoint'], 'eg');
  t.is(server?.attributes['http.response.status_code'], 200);
  t.is(server?.attributes['meshtrace.sampling.kept_by'], 'rule');
  t.false(JSON.stringify(server).includes('secret-token'), 'credentials never reach spans');

  // 2. First endpoint refuses connections: attempt 1 fails, attempt 2 succeeds, same trace.
  const lb = await fetch(`${gw.url}/lb/items`);
  t.is(lb.status, 200, gw.logs());
  const lbTrace = lb.headers.get('traceresponse')!.split('-')[1]!;
  const lbSpans = byTrace(await receiver.waitForSpans('lb spans', (s) => byTrace(s, lbTrace).length >= 3), lbTrace);
  const lbServer = lbSpans.find((s) => s.kind === 'server')!;
  const attempts = lbSpans
    .filter((s) => s.kind === 'client')
    .sort((a, b) => Number(a.attributes['meshtrace.attempt']) - Number(b.attributes['meshtrace.attempt']));
  t.is(attempts.length, 2);
  t.deepEqual(
    attempts.map((a) => a.attributes['meshtrace.attempt.outcome']),
    ['connect_error', 'ok'],
  );
  t.deepEqual(
    attempts.map((a) => a.attributes['server.port']),
    [dead, up.port],
  );
  t.true(attempts.every((a) => a.parentSpanId === lbServer.spanId));
  t.is(attempts[0]?.status, 'error');
  const lbSeen = up.received.find((r) => r.url === '/lb/items');
  t.is(String(lbSeen?.headers['traceparent']).split('-')[2], attempts[1]?.spanId, 'attempt 2 is the upstream parent');

  // 3. Upstream slower than the attempt timeout: 504, the span ends with an error status — and
  //    is exported at 0 % because of the error bias.
  const to = await fetch(`${gw.url}/slow/x`);
  t.is(to.status, 504);
  const toTrace = to.headers.get('traceresponse')!.split('-')[1]!;
  const toSpans = byTrace(
    await receiver.waitForSpans('timeout spans', (s) => byTrace(s, toTrace).length >= 2),
    toTrace,
  );
  const toServer = toSpans.find((s) => s.kind === 'server')!;
  t.is(toServer.status, 'error');
  t.is(toServer.attributes['error.type'], 'timeout');
  t.is(toServer.attributes['meshtrace.sampling.kept_by'], 'error');
  t.is(toSpans.find((s) => s.kind === 'client')?.attributes['meshtrace.attempt.outcome'], 'timeout');

  // 4. A 5xx from the upstream through express-gateway's proxy is kept at 0 %.
  const err = await fetch(`${gw.url}/err/x`);
  t.is(err.status, 503);
  const errTrace = err.headers.get('traceresponse')!.split('-')[1]!;
  const [errSpan] = byTrace(await receiver.waitForSpans('5xx span', (s) => byTrace(s, errTrace).length > 0), errTrace);
  t.is(errSpan?.attributes['meshtrace.sampling.kept_by'], 'error');
  t.is(errSpan?.status, 'error');

  t.is(byTrace(receiver.spans, quietTrace).length, 0, 'the unsampled 200 was not exported');
});

test('express-gateway: an edge gateway does not let a client force sampling', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const up = await startUpstream(t);
  const gw = await startGateway(t, {
    meshtrace: {
      otlp_url: receiver.url,
      export: { flush_interval_ms: 100 },
      sampling: { probability: 0, trust: { boundary: 'edge', inbound_context: 'link' } },
    },
    pipelines: {
      api: {
        paths: ['/api/*', '/fail/*'],
        policies: [{ meshtrace: [] }, { 'meshtrace-lb': [{ action: { endpoints: [`http://127.0.0.1:${up.port}`] } }] }],
      },
    },
  });
  const res = await fetch(`${gw.url}/api/x`, { headers: { traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-01` } });
  t.is(res.status, 200, gw.logs());
  const tp = String(up.received[0]?.headers['traceparent']);
  t.false(tp.includes(INBOUND_TRACE), 'link mode: a new trace id upstream');
  t.regex(tp, /-02$/, 'not sampled, random flag set');
  t.regex(res.headers.get('traceresponse') ?? '', /-02$/);
});

test("express-gateway: the plugin loaded by express-gateway's own require() (CommonJS under tsx) traces the same", async (t) => {
  const receiver = await startOtlpReceiver(t);
  const up = await startUpstream(t);
  const gw = await startGateway(
    t,
    {
      meshtrace: {
        service_name: 'cjs-gateway',
        otlp_url: receiver.url,
        export: { flush_interval_ms: 100 },
        sampling: { probability: 1, trust: { boundary: 'edge', inbound_context: 'parent' } },
      },
      serviceEndpoints: { up: { url: `http://127.0.0.1:${up.port}` } },
      pipelines: {
        api: { paths: ['/api/*'], policies: [{ meshtrace: [] }, { proxy: [{ action: { serviceEndpoint: 'up' } }] }] },
      },
    },
    { pluginLoad: 'require' },
  );
  t.true(gw.logs().includes('"pluginLoad":"require"'), gw.logs());
  const res = await fetch(`${gw.url}/api/x`, { headers: { traceparent: `00-${INBOUND_TRACE}-${INBOUND_SPAN}-00` } });
  t.is(res.status, 200, gw.logs());
  const tp = String(up.received[0]?.headers['traceparent']);
  t.regex(tp, new RegExp(`^00-${INBOUND_TRACE}-[0-9a-f]{16}-01$`), 'same trace, our span as parent, our rate decided');
  t.is(res.headers.get('traceresponse'), tp);
  const [server] = byTrace(
    await receiver.waitForSpans('span from the require()d plugin', (s) => byTrace(s, INBOUND_TRACE).length > 0),
    INBOUND_TRACE,
  );
  t.is(server?.service, 'cjs-gateway');
  t.is(server?.parentSpanId, INBOUND_SPAN);
  t.is(server?.spanId, tp.split('-')[2]);
  t.is(server?.attributes['eg.api_endpoint'], 'api');
});

const badConfigs: Array<[string, Record<string, unknown>, unknown[], string]> = [
  [
    'sampling rule rate above 1',
    { otlp_url: 'http://127.0.0.1:1/v1/traces', sampling: { rules: [{ action: 'rate', rate: 1.5 }] } },
    [{ meshtrace: [] }],
    'plugins.meshtrace.sampling.rules[0].rate: must be ≤ 1',
  ],
  ['missing otlp_url', {}, [{ meshtrace: [] }], 'plugins.meshtrace.otlp_url: is required'],
  [
    'meshtrace policy action',
    { otlp_url: 'http://127.0.0.1:1/v1/traces' },
    [{ meshtrace: [{ action: { rout: '/x' } }] }],
    'meshtrace.action.rout: unknown field',
  ],
  [
    'load balancer retries',
    { otlp_url: 'http://127.0.0.1:1/v1/traces' },
    [{ meshtrace: [] }, { 'meshtrace-lb': [{ action: { endpoints: ['http://127.0.0.1:1'], retries: 99 } }] }],
    'meshtrace-lb.action.retries: must be ≤ 10',
  ],
];

for (const [name, settings, policies, message] of badConfigs) {
  test(`express-gateway refuses to start: ${name}`, async (t) => {
    const { code, output } = await startGatewayExpectingFailure(t, {
      meshtrace: settings,
      pipelines: { api: { paths: ['/api/*'], policies } },
    });
    t.is(code, 1, output);
    t.true(output.includes(message), output);
    t.false(output.includes('MESHTRACE_GATEWAY_READY'));
  });
}

test('express-gateway: the authenticated consumer id is recorded, its key never is', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const up = await startUpstream(t);
  const gw = await startGateway(t, {
    admin: true,
    meshtrace: { otlp_url: receiver.url, export: { flush_interval_ms: 100 }, sampling: { probability: 1 } },
    pipelines: {
      api: {
        paths: ['/api/*'],
        policies: [
          { meshtrace: [] },
          { 'key-auth': [] },
          { 'meshtrace-lb': [{ action: { endpoints: [`http://127.0.0.1:${up.port}`] } }] },
        ],
      },
    },
  });
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${gw.adminUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    t.is(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as Record<string, string>;
  };
  const user = await admin('/users', { username: 'alice', firstname: 'Alice', lastname: 'Doe' });
  const cred = await admin('/credentials', { consumerId: user['id'], type: 'key-auth' });
  const key = `${cred['keyId']}:${cred['keySecret']}`;

  const denied = await fetch(`${gw.url}/api/x`);
  t.is(denied.status, 401, 'key-auth is really enforced');
  const res = await fetch(`${gw.url}/api/x`, { headers: { authorization: `apiKey ${key}` } });
  t.is(res.status, 200, gw.logs());
  const traceId = res.headers.get('traceresponse')!.split('-')[1]!;
  const [server] = byTrace(
    await receiver.waitForSpans('consumer span', (s) => byTrace(s, traceId).some((x) => x.kind === 'server')),
    traceId,
  ).filter((s) => s.kind === 'server');
  t.is(server?.attributes['eg.consumer.id'], user['id']);
  t.is(server?.attributes['eg.consumer.type'], 'user');
  const everything = JSON.stringify(receiver.spans);
  t.false(everything.includes(cred['keySecret']!), 'the key secret never reaches a span');

  const counters = (await (await fetch(`${gw.adminUrl}/meshtrace/counters`)).json()) as {
    sampling: { requests: number; kept: Record<string, number> };
    export: { exported: number };
  };
  t.is(counters.sampling.requests, 2, 'the denied and the allowed request were both seen');
  t.is(counters.sampling.kept['probability'], 2);
  t.true(counters.export.exported >= 1);
});
