// Sampling strategies of the filter through real Envoy 1.40, proven at a real OTLP receiver
// (spans decoded with the published protos): error and latency bias keep what a 0 % head rate
// drops; a failure deep in a chain of three Envoys keeps one connected path; a debug user is
// kept at an edge only with a valid signed token; the cost cap holds over a burst; two chained
// edges with the same rate keep the same traces (consistent probability from the trace id);
// bad sampling config is refused at load with the field named in Envoy's log.
import test, { type ExecutionContext } from 'ava';
import { signDebugToken } from '../../core/sampling/index.ts';
import { localCluster, proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { type OtlpReceiver, startOtlpReceiver } from './export-receiver.ts';
import { builtFilter, envoyExit, send, traceparent } from './filter-support.ts';

/** The W3C sampled bit of a traceparent the upstream received (flags may also carry `random`). */
const sampledBit = (v: unknown) => (Number.parseInt(traceparent(v).flags, 16) & 1) === 1;

const EXPORT = { cluster: 'otlp', batch_size: 1, flush_interval_ms: 100 };
const SECRET = 'e2e-debug-secret-0123456789abcdef';

/** One Envoy with the filter in front of `upstreamPort`, exporting to `receiver`. */
async function hop(t: ExecutionContext, receiver: OtlpReceiver, upstreamPort: number, config: Record<string, unknown>) {
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstreamPort],
      httpFilters: [wasmHttpFilter(builtFilter(), { export: EXPORT, ...config })],
      extraClusters: [localCluster('otlp', [receiver.port])],
    }),
  );
  return { envoy, listenPort };
}

/** Waits until the receiver holds `n` spans, then a little longer so extra (wrong) spans would show. */
async function settle(receiver: OtlpReceiver, n: number) {
  await waitFor(`${n} spans at the receiver`, async () => receiver.spans.length >= n, 15000);
  await new Promise((r) => setTimeout(r, 400));
}

test('0 % head rate: a 5xx and a slow response are exported (kept_by error / latency), a fast 200 is not', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t, (req) => ({
    status: req.url.startsWith('/fail') ? 503 : 200,
    delayMs: req.url.startsWith('/slow') ? 1500 : 0,
  }));
  const { envoy, listenPort } = await hop(t, receiver, upstream.port, {
    service_name: 'edge',
    sampling: { probability: 0, latency: { threshold_ms: 1000 } },
  });
  for (let i = 0; i < 4; i++) t.is((await send(listenPort, `/ok/${i}`)).status, 200);
  t.is((await send(listenPort, '/fail/1')).status, 503);
  t.is((await send(listenPort, '/slow/1')).status, 200);
  await settle(receiver, 2);
  t.deepEqual(receiver.errors, []);
  const byPath = new Map(receiver.spans.map((s) => [s.attributes['url.path'], s]));
  // A fast 200 is not exported — unless this loaded machine made it slow: then it must really
  // have taken ≥ the threshold and say so.
  const okKept = receiver.spans.filter((s) => String(s.attributes['url.path']).startsWith('/ok'));
  for (const s of okKept) {
    t.is(s.attributes['meshtrace.sampling.reason'], 'latency');
    t.true(s.endNs - s.startNs >= 1_000_000_000n, 'an exported /ok span really was slow');
  }
  t.is(receiver.spans.length, 2 + okKept.length, JSON.stringify([...byPath.keys()]));
  t.is(byPath.get('/fail/1')?.attributes['meshtrace.sampling.reason'], 'error');
  t.is(byPath.get('/fail/1')?.attributes['http.response.status_code'], 503);
  t.is(byPath.get('/slow/1')?.attributes['meshtrace.sampling.reason'], 'latency');
  // The head decision was "drop": every upstream request carried sampled = 0.
  t.true(upstream.received.every((r) => !sampledBit(r.headers.traceparent)));
  const stats = await envoy.stats('meshtrace');
  t.is(stats.get('wasmcustom.meshtrace.sampled.error'), 1, [...stats].join('\n'));
  t.is(stats.get('wasmcustom.meshtrace.sampled.latency'), 1 + okKept.length);
  t.is(stats.get('wasmcustom.meshtrace.sampling_dropped.probability'), 4 - okKept.length);
});

test('chain of three Envoys, the deepest upstream fails: the spans of all three hops are exported as one path', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const app = await startUpstream(t, () => ({ status: 500, body: 'boom' }));
  const deep = await hop(t, receiver, app.port, {
    service_name: 'deep',
    sampling: { probability: 0, trust: { boundary: 'internal' } },
  });
  const mid = await hop(t, receiver, deep.listenPort, {
    service_name: 'mid',
    sampling: { probability: 0, trust: { boundary: 'internal' } },
  });
  const edge = await hop(t, receiver, mid.listenPort, { service_name: 'edge', sampling: { probability: 0 } });
  t.is((await send(edge.listenPort, '/checkout')).status, 500);
  t.is((await send(edge.listenPort, '/other')).status, 500);
  await settle(receiver, 6);
  t.is(receiver.spans.length, 6);
  const path = receiver.spans.filter((s) => s.attributes['url.path'] === '/checkout');
  const by = new Map(path.map((s) => [s.service, s]));
  t.deepEqual([...by.keys()].sort(), ['deep', 'edge', 'mid']);
  const [e, m, d] = [by.get('edge')!, by.get('mid')!, by.get('deep')!];
  t.is(new Set(path.map((s) => s.traceId)).size, 1, 'one trace');
  t.is(e.parentSpanId, '', 'the edge span is the root');
  t.is(m.parentSpanId, e.spanId, 'mid is a child of edge');
  t.is(d.parentSpanId, m.spanId, 'deep is a child of mid');
  t.is(traceparent(app.received[0]?.headers.traceparent).spanId, d.spanId);
  for (const s of path) t.is(s.attributes['meshtrace.sampling.reason'], 'error', s.service);
});

test('edge: a debug user is exported only with a valid signed debug token, which is never forwarded', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const { envoy, listenPort } = await hop(t, receiver, upstream.port, {
    service_name: 'edge',
    sampling: {
      probability: 0,
      debug: { user_header: 'x-user', users: ['alice'] },
      trust: { boundary: 'edge', debug_token: { keys: [{ id: 'k1', secret: SECRET }], max_ttl_s: 600 } },
    },
  });
  const nowS = Math.floor(Date.now() / 1000);
  const sent: Array<[string, Array<[string, string]>]> = [
    ['/no-token', [['x-user', 'alice']]],
    [
      '/debug-header',
      [
        ['x-user', 'alice'],
        ['x-meshtrace-debug', '1'],
      ],
    ],
    [
      '/client-sampled',
      [
        ['x-user', 'alice'],
        ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ],
    ],
    [
      '/expired',
      [
        ['x-user', 'alice'],
        ['x-meshtrace-debug-token', signDebugToken('k1', SECRET, nowS - 5, 'alice')],
      ],
    ],
    [
      '/forged',
      [
        ['x-user', 'alice'],
        ['x-meshtrace-debug-token', signDebugToken('k1', 'not-the-secret-0123456789', nowS + 60, 'alice')],
      ],
    ],
    [
      '/valid',
      [
        ['x-user', 'alice'],
        ['x-meshtrace-debug-token', signDebugToken('k1', SECRET, nowS + 60, 'alice')],
      ],
    ],
  ];
  for (const [path, headers] of sent) t.is((await send(listenPort, path, headers)).status, 200, path);
  await settle(receiver, 1);
  t.is(receiver.spans.length, 1, JSON.stringify(receiver.spans.map((s) => s.attributes['url.path'])));
  const span = receiver.spans[0]!;
  t.is(span.attributes['url.path'], '/valid');
  t.is(span.attributes['meshtrace.sampling.reason'], 'debug');
  t.is(span.attributes['meshtrace.debug.subject'], 'alice');
  t.false(JSON.stringify(span.attributes).includes(SECRET.slice(0, 8)), 'no secret in the span');
  t.is(
    upstream.received.find((r) => r.url === '/valid')?.headers['x-meshtrace-debug-token'],
    undefined,
    'a valid token is removed',
  );
  t.false(
    Object.keys(span.attributes).some((k) => k.includes('token')),
    'the token is not recorded',
  );
  // The client-sent sampled flag did not force sampling at the edge.
  t.false(sampledBit(upstream.received.find((r) => r.url === '/client-sampled')?.headers.traceparent));
  const stats = await envoy.stats('meshtrace');
  t.is(stats.get('wasmcustom.meshtrace.debug_token_rejected.expired'), 1, [...stats].join('\n'));
  t.is(stats.get('wasmcustom.meshtrace.debug_token_rejected.bad_signature'), 1);
  t.is(stats.get('wasmcustom.meshtrace.sampled.debug'), 1);
});

test('cost cap: over a burst, kept traces stay within burst + rate × elapsed; refusals are counted', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const { envoy, listenPort } = await hop(t, receiver, upstream.port, {
    service_name: 'capped',
    sampling: { probability: 1, cost_cap: { per_second: 2, burst: 4, per: 'service' } },
  });
  const started = Date.now();
  const N = 40;
  await Promise.all(Array.from({ length: N }, (_, i) => send(listenPort, `/burst/${i}`)));
  const elapsedS = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 600));
  const kept = upstream.received.filter((r) => sampledBit(r.headers.traceparent)).length;
  const max = 4 + Math.ceil(elapsedS * 2);
  t.true(kept >= 4 && kept <= max, `kept ${kept}, allowed 4..${max} over ${elapsedS}s`);
  t.is(upstream.received.length, N, 'every request reached the upstream');
  t.is(receiver.spans.length, kept, 'exported = kept at the head');
  const stats = await envoy.stats('meshtrace');
  t.is(stats.get('wasmcustom.meshtrace.sampling_dropped.cost_cap'), N - kept, [...stats].join('\n'));
});

test('consistent probability: two chained edges at the same rate keep the same traces', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const sampling = { probability: 0.5, error: { enabled: false } };
  const second = await hop(t, receiver, upstream.port, { service_name: 'second', sampling });
  const first = await hop(t, receiver, second.listenPort, { service_name: 'first', sampling });
  const N = 40;
  for (let i = 0; i < N; i++) t.is((await send(first.listenPort, `/c/${i}`)).status, 200);
  const keptUpstream = upstream.received.filter((r) => sampledBit(r.headers.traceparent)).length;
  await settle(receiver, 2 * keptUpstream);
  const traces = (svc: string) => new Set(receiver.spans.filter((s) => s.service === svc).map((s) => s.traceId));
  const a = traces('first');
  const b = traces('second');
  t.true(a.size > 0 && a.size < N, `first kept ${a.size} of ${N}`);
  t.deepEqual([...b].sort(), [...a].sort(), 'the second edge (untrusting the first) kept exactly the same traces');
  for (const s of receiver.spans) t.true(s.traceState.startsWith('ot=th:8'), s.traceState);
});

const refused: Array<{ name: string; config: unknown; expected: string }> = [
  {
    name: 'unknown strategy (rule action)',
    config: { sampling: { rules: [{ action: 'sometimes' }] } },
    expected: 'meshtrace: config: sampling.rules[0].action: must be one of always, never, rate',
  },
  {
    name: 'unknown strategy (section field)',
    config: { sampling: { tail: { buffer: 1000 } } },
    expected: 'meshtrace: config: sampling.tail: unknown field',
  },
  {
    name: 'rate > 1',
    config: { sampling: { rules: [{ action: 'rate', rate: 1.5 }] } },
    expected: 'meshtrace: config: sampling.rules[0].rate: must be ≤ 1',
  },
  {
    name: 'bad regex',
    config: { sampling: { rules: [{ match: { path_regex: '[a-' }, action: 'always' }] } },
    expected: 'meshtrace: config: sampling.rules[0].match.path_regex: invalid regular expression',
  },
  {
    name: 'missing cluster',
    config: { export: { path: '/v1/traces' } },
    expected: 'meshtrace: config: export.cluster',
  },
];

for (const c of refused) {
  test(`bad sampling config refused at load, log names the field: ${c.name}`, async (t) => {
    const { code, logs } = await envoyExit(t, c.config);
    t.not(code, 'running', `Envoy kept running with a bad config\n${logs}`);
    t.true(logs.includes(c.expected), `expected log line: ${c.expected}\n--- envoy ---\n${logs}`);
  });
}
