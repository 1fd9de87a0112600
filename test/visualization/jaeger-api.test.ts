// Contract of the Jaeger-compatible query API against generated traces: the envelope Jaeger UI
// and Grafana's Jaeger data source read ({data, total, limit, offset, errors}), trace JSON with
// processes, CHILD_OF / FOLLOWS_FROM references, typed tags and µs times, and every filter of
// /api/traces checked against the generator's spans.
import test from 'ava';
import type { Span } from '../../analysis/model.ts';
import type { JaegerTrace } from '../../visualization/index.ts';
import { type Served, serveWorkload } from './served-workload.ts';

let served: Served;
const linked: Span[] = [];

test.before(async () => {
  served = await serveWorkload(200, 11);
  // One hand-built trace with an OTel link (the generator makes none) and typed attributes.
  const base = served.workload.truth.startUs;
  const mk = (spanId: string, parent: string | null, extra: Partial<Span> = {}): Span => ({
    traceId: 'abcdef0123456789abcdef0123456789',
    spanId,
    parentSpanId: parent,
    name: parent === null ? 'GET /linked' : 'consume',
    kind: parent === null ? 'server' : 'consumer',
    service: 'linker',
    startUs: base + 100,
    endUs: base + 900,
    status: 'unset',
    statusMessage: '',
    attributes: {},
    resource: { 'service.name': 'linker', 'host.name': 'h1' },
    events: [],
    links: [],
    ...extra,
  });
  linked.push(
    mk('1000000000000001', null, {
      attributes: { 'http.response.status_code': 200, ratio: 0.5, cached: true, route: '/linked', list: ['a', 'b'] },
      events: [{ timeUs: base + 200, name: 'cache.miss', attributes: { key: 'k1' } }],
    }),
    mk('1000000000000002', '1000000000000001', {
      startUs: base + 300,
      endUs: base + 800,
      status: 'error',
      statusMessage: 'queue closed',
      links: [{ traceId: '11111111111111111111111111111111', spanId: '2222222222222222', attributes: {} }],
    }),
  );
  await served.store.append(linked);
});
test.after.always(async () => {
  await served?.close();
});

const spansOf = (traceId: string) => served.workload.spans.filter((s) => s.traceId === traceId);
const serviceOf = (t: JaegerTrace, processID: string) => t.processes[processID]?.serviceName;

test('GET /api/services lists every service, in Jaeger’s envelope', async (t) => {
  const { status, body } = await served.get<string[]>('/api/services');
  t.is(status, 200);
  const expected = [...new Set([...served.workload.spans.map((s) => s.service), 'linker'])].sort();
  t.deepEqual([...body.data].sort(), expected);
  t.is(body.total, expected.length);
  t.is(body.errors, null);
  t.is(body.limit, 0);
  t.is(body.offset, 0);
});

test('GET /api/services/:service/operations lists that service’s operation names', async (t) => {
  const { body } = await served.get<string[]>('/api/services/checkout/operations');
  const expected = [...new Set(served.workload.spans.filter((s) => s.service === 'checkout').map((s) => s.name))];
  t.deepEqual([...body.data].sort(), expected.sort());
});

test('GET /api/operations?service=&spanKind= filters by kind and names the kind', async (t) => {
  const all = await served.get<Array<{ name: string; spanKind: string }>>('/api/operations?service=frontend');
  const server = await served.get<Array<{ name: string; spanKind: string }>>(
    '/api/operations?service=frontend&spanKind=server',
  );
  const fromSpans = (kind: string) =>
    [
      ...new Set(served.workload.spans.filter((s) => s.service === 'frontend' && s.kind === kind).map((s) => s.name)),
    ].sort();
  t.deepEqual(server.body.data.map((o) => o.name).sort(), fromSpans('server'));
  t.true(server.body.data.every((o) => o.spanKind === 'server'));
  t.true(all.body.data.length > server.body.data.length, 'frontend has client operations too');
  t.true(all.body.data.some((o) => o.spanKind === 'client'));
});

test('GET /api/traces/:id returns the whole trace with processes, CHILD_OF references and µs times', async (t) => {
  const source = served.workload.spans.find((s) => s.parentSpanId === null && s.service === 'frontend')!;
  const expected = spansOf(source.traceId);
  const { status, body } = await served.get<JaegerTrace[]>(`/api/traces/${source.traceId}`);
  t.is(status, 200);
  t.is(body.data.length, 1);
  const trace = body.data[0]!;
  t.is(trace.traceID, source.traceId);
  t.is(trace.spans.length, expected.length);
  const byId = new Map(expected.map((s) => [s.spanId, s]));
  for (const js of trace.spans) {
    const s = byId.get(js.spanID);
    if (!s) return t.fail(`unexpected span ${js.spanID}`);
    t.is(js.operationName, s.name);
    t.is(js.startTime, s.startUs);
    t.is(js.duration, s.endUs - s.startUs);
    t.is(serviceOf(trace, js.processID), s.service);
    const parents = js.references.filter((r) => r.refType === 'CHILD_OF');
    if (s.parentSpanId === null) t.is(parents.length, 0);
    else t.deepEqual(parents, [{ refType: 'CHILD_OF', traceID: s.traceId, spanID: s.parentSpanId }]);
    t.true(js.tags.some((g) => g.key === 'span.kind' && g.value === s.kind));
  }
  // processes carry the resource attributes except service.name
  for (const p of Object.values(trace.processes)) {
    t.true(p.tags.some((g) => g.key === 'host.name'));
    t.false(p.tags.some((g) => g.key === 'service.name'));
  }
});

test('trace JSON: typed tags, error tags, logs from events, links as FOLLOWS_FROM', async (t) => {
  const { body } = await served.get<JaegerTrace[]>('/api/traces/abcdef0123456789abcdef0123456789');
  const [root, child] = body.data[0]!.spans;
  const tag = (s: typeof root, key: string) => s?.tags.find((g) => g.key === key);
  t.deepEqual(tag(root, 'http.response.status_code'), { key: 'http.response.status_code', type: 'int64', value: 200 });
  t.deepEqual(tag(root, 'ratio'), { key: 'ratio', type: 'float64', value: 0.5 });
  t.deepEqual(tag(root, 'cached'), { key: 'cached', type: 'bool', value: true });
  t.deepEqual(tag(root, 'route'), { key: 'route', type: 'string', value: '/linked' });
  t.deepEqual(tag(root, 'list'), { key: 'list', type: 'string', value: '["a","b"]' });
  t.deepEqual(root?.logs, [
    {
      timestamp: linked[0]!.events[0]!.timeUs,
      fields: [
        { key: 'event', type: 'string', value: 'cache.miss' },
        { key: 'key', type: 'string', value: 'k1' },
      ],
    },
  ]);
  t.deepEqual(tag(child, 'error'), { key: 'error', type: 'bool', value: true });
  t.deepEqual(tag(child, 'otel.status_code'), { key: 'otel.status_code', type: 'string', value: 'ERROR' });
  t.deepEqual(tag(child, 'otel.status_description'), {
    key: 'otel.status_description',
    type: 'string',
    value: 'queue closed',
  });
  t.deepEqual(child?.references, [
    { refType: 'CHILD_OF', traceID: 'abcdef0123456789abcdef0123456789', spanID: '1000000000000001' },
    { refType: 'FOLLOWS_FROM', traceID: '11111111111111111111111111111111', spanID: '2222222222222222' },
  ]);
});

test('GET /api/traces?service=&limit= returns that many traces, newest first, each containing the service', async (t) => {
  const { body } = await served.get<JaegerTrace[]>('/api/traces?service=payments&limit=7');
  t.is(body.data.length, 7);
  t.is(body.total, 7);
  const latest = body.data.map((tr) =>
    Math.max(...tr.spans.filter((s) => serviceOf(tr, s.processID) === 'payments').map((s) => s.startTime)),
  );
  t.deepEqual(
    latest,
    [...latest].sort((a, b) => b - a),
    'newest first',
  );
  for (const tr of body.data) t.true(tr.spans.some((s) => serviceOf(tr, s.processID) === 'payments'));
});

test('GET /api/traces filters by operation and duration (Go duration syntax)', async (t) => {
  const durations = served.workload.spans
    .filter((s) => s.service === 'catalog' && s.name === 'search')
    .map((s) => s.endUs - s.startUs)
    .sort((a, b) => a - b);
  const mid = durations[Math.floor(durations.length / 2)]!;
  const minMs = Math.floor(mid / 1000);
  const expectedCount = new Set(
    served.workload.spans
      .filter((s) => s.service === 'catalog' && s.name === 'search' && s.endUs - s.startUs >= minMs * 1000)
      .map((s) => s.traceId),
  ).size;
  const { body } = await served.get<JaegerTrace[]>(
    `/api/traces?service=catalog&operation=search&minDuration=${minMs}ms&maxDuration=10s&limit=1000`,
  );
  t.is(body.data.length, expectedCount);
  for (const tr of body.data) {
    t.true(
      tr.spans.some(
        (s) => serviceOf(tr, s.processID) === 'catalog' && s.operationName === 'search' && s.duration >= minMs * 1000,
      ),
    );
  }
  const none = await served.get<JaegerTrace[]>('/api/traces?service=catalog&operation=search&minDuration=1h');
  t.deepEqual(none.body.data, []);
});

test('GET /api/traces filters by tags (JSON and tag=key:value; error=true matches failed spans)', async (t) => {
  const failed = new Set(served.workload.spans.filter((s) => s.status === 'error').map((s) => s.traceId));
  const { body } = await served.get<JaegerTrace[]>(
    `/api/traces?tags=${encodeURIComponent('{"error":"true"}')}&limit=1000`,
  );
  t.is(body.data.length, failed.size + 1, 'every trace with a failed span, plus the hand-built one');
  const one = await served.get<JaegerTrace[]>('/api/traces?service=linker&tag=route:/linked');
  t.deepEqual(
    one.body.data.map((tr) => tr.traceID),
    ['abcdef0123456789abcdef0123456789'],
  );
  const miss = await served.get<JaegerTrace[]>('/api/traces?service=linker&tag=route:/other');
  t.deepEqual(miss.body.data, []);
});

test('GET /api/traces honours start/end (µs) and lookback', async (t) => {
  const { startUs, endUs } = served.workload.truth;
  const cut = Math.floor(startUs + (endUs - startUs) / 2);
  const { body } = await served.get<JaegerTrace[]>(
    `/api/traces?service=frontend&start=${Math.floor(startUs)}&end=${cut}&limit=1000`,
  );
  const expected = new Set(
    served.workload.spans
      .filter((s) => s.service === 'frontend' && s.startUs >= startUs && s.startUs <= cut)
      .map((s) => s.traceId),
  );
  t.is(body.data.length, expected.size);
  t.true(body.data.every((tr) => expected.has(tr.traceID)));
  // the server clock is one minute after the workload: a 1 s lookback sees nothing, 1 h everything
  const short = await served.get<JaegerTrace[]>('/api/traces?service=frontend&lookback=1s');
  t.deepEqual(short.body.data, []);
  const long = await served.get<JaegerTrace[]>('/api/traces?service=frontend&lookback=1h&limit=5');
  t.is(long.body.data.length, 5);
});

test('GET /api/traces?traceID=a&traceID=b returns those traces (short ids left-padded)', async (t) => {
  const ids = [...new Set(served.workload.spans.map((s) => s.traceId))].slice(0, 2);
  const { body } = await served.get<JaegerTrace[]>(`/api/traces?traceID=${ids[0]}&traceID=${ids[1]}`);
  t.deepEqual(body.data.map((tr) => tr.traceID).sort(), [...ids].sort());
  const padded = await served.get<JaegerTrace[]>(
    '/api/traces/0000abcdef0123456789abcdef0123456789'.replace('0000', ''),
  );
  t.is(padded.body.data[0]?.traceID, 'abcdef0123456789abcdef0123456789');
});

test('GET /api/dependencies?endTs=&lookback= (ms) gives caller → callee call counts', async (t) => {
  const endTs = Math.ceil(served.workload.truth.endUs / 1000) + 1;
  // a minute of margin before the workload: skewed host clocks stamp some spans before its start
  const lookback = endTs - Math.floor(served.workload.truth.startUs / 1000) + 60_000;
  const { body } = await served.get<Array<{ parent: string; child: string; callCount: number }>>(
    `/api/dependencies?endTs=${endTs}&lookback=${lookback}`,
  );
  // oracle: spans whose parent belongs to another service
  const byId = new Map(served.workload.spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
  const expected = new Map<string, number>();
  for (const s of served.workload.spans) {
    const p = s.parentSpanId === null ? undefined : byId.get(`${s.traceId}/${s.parentSpanId}`);
    if (p && p.service !== s.service)
      expected.set(`${p.service}>${s.service}`, (expected.get(`${p.service}>${s.service}`) ?? 0) + 1);
  }
  const got = new Map(
    body.data.filter((d) => expected.has(`${d.parent}>${d.child}`)).map((d) => [`${d.parent}>${d.child}`, d.callCount]),
  );
  t.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expected].sort()));
  t.true(body.data.some((d) => d.parent === 'frontend' && d.child === 'checkout'));
  const before = await served.get<unknown[]>(
    `/api/dependencies?endTs=${Math.floor(served.workload.truth.startUs / 1000) - 60_000}&lookback=1000`,
  );
  t.deepEqual(before.body.data, [], 'nothing before the workload');
});
