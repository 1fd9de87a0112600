// Online linking in the BUILT filter (wasm-filters/assembly/linking/), in the TypeScript host:
// one sidecar = an inbound and an outbound plugin sharing Envoy's shared data and a clock. The
// app in the middle forwards no context; these tests play its part by making calls while
// inbound requests are in flight, and check what context each call leaves with.
import test from 'ava';
import { decodeBody, type ReceivedSpan } from '../e2e/export-receiver.ts';
import { FakeClock, seededRandom } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import { type HttpStream, type ProxyWasmHost, SharedDataStore } from '../support/proxy-wasm-host/host.ts';

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

interface Sidecar {
  inbound: ProxyWasmHost;
  outbound: ProxyWasmHost;
  clock: FakeClock;
}

async function sidecar(linking: Record<string, unknown> = {}, exportSpans = false): Promise<Sidecar> {
  const sharedData = new SharedDataStore();
  const clock = new FakeClock();
  const base = (direction: string) => ({
    service_name: 'orders',
    direction,
    linking,
    ...(exportSpans ? { export: { cluster: 'otlp', batch_size: 1 } } : {}),
  });
  const a = await loadFilter(base('inbound'), { sharedData, clock, random: seededRandom(1), clusters: ['otlp'] });
  const b = await loadFilter(base('outbound'), { sharedData, clock, random: seededRandom(2), clusters: ['otlp'] });
  if (!a.configured || !b.configured) throw new Error([...a.host.logMessages(), ...b.host.logMessages()].join('\n'));
  return { inbound: a.host, outbound: b.host, clock };
}

interface Hop {
  stream: HttpStream;
  traceId: string;
  /** The proxy's span id (what it sent upstream as the parent). */
  spanId: string;
  sampled: boolean;
}

function parse(stream: HttpStream): Hop {
  const tp = stream.requestHeader('traceparent') ?? '';
  const m = TRACEPARENT.exec(tp);
  if (!m) throw new Error(`no traceparent upstream: '${tp}'`);
  return {
    stream,
    traceId: m[1] as string,
    spanId: m[2] as string,
    sampled: (Number.parseInt(m[3] as string, 16) & 1) === 1,
  };
}

function headers(path: string, authority: string, traceparent: string | null): [string, string][] {
  return [
    [':authority', authority],
    [':path', path],
    [':method', 'GET'],
    [':scheme', 'http'],
    ...(traceparent === null ? [] : ([['traceparent', traceparent]] as [string, string][])),
  ];
}

/** A request arrives at the inbound listener (with the caller's context or none). */
function arrive(s: Sidecar, path: string, traceparent: string | null = null): Hop {
  const stream = s.inbound.newHttpStream();
  stream.callOnRequestHeaders(headers(path, 'orders:80', traceparent), true);
  return parse(stream);
}

/** The app makes a call with no context, through the outbound listener. */
function call(s: Sidecar, path: string, authority = 'inventory:80'): Hop {
  const stream = s.outbound.newHttpStream();
  stream.callOnRequestHeaders(headers(path, authority, null), true);
  return parse(stream);
}

function finish(h: Hop, status = 200): void {
  h.stream.callOnResponseHeaders({ ':status': String(status) }, true);
  h.stream.complete();
}

/** One request served alone: the clean observation the model learns from. */
function isolated(s: Sidecar, path: string, calls: string[], gapMs = 0.2): void {
  const r = arrive(s, path);
  for (const c of calls) {
    s.clock.advance(gapMs);
    const h = call(s, c);
    s.clock.advance(2);
    finish(h);
  }
  s.clock.advance(gapMs);
  finish(r);
}

/** Every span the plugin exported so far (answers each export call; the queue sends the rest). */
function exported(host: ProxyWasmHost): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (let calls = host.pendingHttpCalls(); calls.length > 0; calls = host.pendingHttpCalls()) {
    for (const c of calls) {
      out.push(...decodeBody(c.body, c.headers.find(([k]) => k === 'content-type')?.[1] ?? ''));
      host.respondToHttpCall(c.token);
    }
    host.tick();
  }
  return out;
}

test('one request in flight: the context-less call joins its trace, parented by the inbound span', async (t) => {
  const s = await sidecar();
  const r = arrive(s, '/orders/1', CALLER);
  t.is(r.traceId, '0af7651916cd43dd8448eb211c80319c');
  const c = call(s, '/stock/1');
  t.is(c.traceId, r.traceId, 'same trace');
  t.not(c.spanId, r.spanId, 'the outbound proxy has its own span');
  t.true(c.sampled, 'the inbound decision travels on');
  t.is(s.outbound.metric('meshtrace.link.single'), 1);
  finish(c);
  finish(r);
});

test('the linked call carries the inbound span as parent and the linking facts on its span', async (t) => {
  const s = await sidecar({}, true);
  const r = arrive(s, '/orders/1', CALLER);
  const c = call(s, '/stock/1');
  finish(c);
  finish(r);
  const [client] = exported(s.outbound);
  const [server] = exported(s.inbound);
  if (!client || !server) return t.fail('both spans exported');
  t.is(client.kind, 3);
  t.is(client.traceId, server.traceId);
  t.is(client.parentSpanId, server.spanId, 'parent = the inbound server span');
  t.like(client.attributes, {
    'meshtrace.workload': 'orders',
    'meshtrace.link.method': 'single',
    'meshtrace.link.inflight': 1,
    'meshtrace.link.inferred': true,
    'meshtrace.link.confidence': 1,
  });
  t.is(client.attributes['meshtrace.link.provisional'], undefined);
  t.is(server.attributes['meshtrace.workload'], 'orders');
  t.is(server.attributes['meshtrace.link.method'], undefined, 'no decision on the inbound side');
  // The VM (in Envoy: the worker thread) that saw each stream. This host runs the inbound and
  // the outbound filter in two VMs, so the ids differ; each stays the same for its VM.
  const worker = (sp: typeof server) => sp.attributes['meshtrace.link.worker'];
  for (const sp of [server, client])
    t.true(Number.isInteger(worker(sp)) && (worker(sp) as number) > 0, `worker id ${worker(sp)}`);
  t.not(worker(client), worker(server));
  const again = call(s, '/stock/2');
  finish(again);
  t.is(worker(exported(s.outbound).at(-1)!), worker(client));
});

test('nothing in flight: the call starts its own trace and is counted as none', async (t) => {
  const s = await sidecar();
  const r = arrive(s, '/orders/1', CALLER);
  finish(r); // the response started: the app is done with it
  const c = call(s, '/stock/1');
  t.not(c.traceId, r.traceId);
  t.is(s.outbound.metric('meshtrace.link.none'), 1);
  t.is(s.outbound.metric('meshtrace.link.single'), undefined);
});

test('a call that carries its own context is left alone', async (t) => {
  const s = await sidecar();
  arrive(s, '/orders/1', CALLER);
  const stream = s.outbound.newHttpStream();
  const own = '00-11111111111111111111111111111111-2222222222222222-01';
  stream.callOnRequestHeaders(requestHeaders({ traceparent: own }), true);
  t.is(parse(stream).traceId, '11111111111111111111111111111111');
  t.is(s.outbound.metric('meshtrace.link.single'), undefined);
});

test('two in flight and nothing learned: provisional, with both candidates on the span', async (t) => {
  const s = await sidecar({}, true);
  const a = arrive(s, '/orders/1', CALLER);
  const b = arrive(s, '/orders/2');
  const c = call(s, '/stock/1');
  t.not(c.traceId, a.traceId);
  t.not(c.traceId, b.traceId);
  t.true(c.sampled, 'kept: a candidate trace is kept, so the call can be linked offline');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1);
  finish(c);
  const [span] = exported(s.outbound);
  if (!span) return t.fail('exported');
  t.is(span.parentSpanId, '', 'no parent yet: the collector finds it');
  t.like(span.attributes, { 'meshtrace.link.method': 'provisional', 'meshtrace.link.provisional': true });
  t.deepEqual([...(span.attributes['meshtrace.link.candidates'] as string[])].sort(), [a.spanId, b.spanId].sort());
});

test('more candidates than max_candidates: the list is left out (= every request in flight)', async (t) => {
  const s = await sidecar({ max_candidates: 2 }, true);
  arrive(s, '/orders/1');
  arrive(s, '/orders/2');
  arrive(s, '/orders/3');
  finish(call(s, '/stock/1'));
  const [span] = exported(s.outbound);
  t.is(span?.attributes['meshtrace.link.provisional'], true);
  t.is(span?.attributes['meshtrace.link.candidates'], undefined);
  t.is(span?.attributes['meshtrace.link.inflight'], 3);
});

test('learned pattern: a request whose operation never makes this call is ruled out', async (t) => {
  const s = await sidecar({ min_samples: 10 });
  for (let i = 0; i < 10; i++) {
    isolated(s, `/orders/${i}`, ['/stock/1']);
    isolated(s, `/health/${i}`, []);
  }
  t.is(s.inbound.metric('meshtrace.link.learned'), 20);
  const order = arrive(s, '/orders/9', CALLER);
  arrive(s, '/health/9');
  const c = call(s, '/stock/9');
  t.is(c.traceId, order.traceId, '/health never calls: only /orders remains');
  t.is(s.outbound.metric('meshtrace.link.model'), 1);
});

test('learned pattern: model confidence is the rule of succession over the weakest rule', async (t) => {
  const s = await sidecar({ min_samples: 10 }, true);
  for (let i = 0; i < 10; i++) {
    isolated(s, `/orders/${i}`, ['/stock/1']);
    isolated(s, `/health/${i}`, []);
  }
  exported(s.inbound);
  exported(s.outbound);
  arrive(s, '/orders/9');
  arrive(s, '/health/9');
  finish(call(s, '/stock/9'));
  const [span] = exported(s.outbound);
  t.is(span?.attributes['meshtrace.link.method'], 'model');
  t.is(span?.attributes['meshtrace.link.confidence'], 1 - 1 / (10 + 2));
});

test('learned pattern: too few clean samples make a rule too weak to link on', async (t) => {
  // 5 samples: 1 - 1/7 = 0.857 < 0.9 — the rule is used, but not trusted enough to link.
  const s = await sidecar({ min_samples: 5 });
  for (let i = 0; i < 5; i++) {
    isolated(s, `/orders/${i}`, ['/stock/1']);
    isolated(s, `/health/${i}`, []);
  }
  arrive(s, '/orders/9');
  arrive(s, '/health/9');
  call(s, '/stock/9');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1);
  t.is(s.outbound.metric('meshtrace.link.model'), undefined);
});

test('learned pattern: a request waiting on its own sequential call, or done calling, is ruled out', async (t) => {
  const s = await sidecar({ min_samples: 10 });
  for (let i = 0; i < 10; i++) isolated(s, `/orders/${i}`, ['/stock/1', '/price/1']);
  const first = arrive(s, '/orders/10');
  s.clock.advance(0.2);
  const stock = call(s, '/stock/10'); // one in flight: certain, and first is now waiting on it
  t.is(stock.traceId, first.traceId);
  const second = arrive(s, '/orders/11');
  s.clock.advance(0.2);
  // first never has two calls out at once: only second can make this call.
  const stock2 = call(s, '/stock/11');
  t.is(stock2.traceId, second.traceId);
  t.is(s.outbound.metric('meshtrace.link.model'), 1);
  finish(stock);
  s.clock.advance(0.2);
  // first has made its one /stock call (a sure link, counted); second's was a judgement (a rules
  // link, not counted), so only second can still be making one.
  t.is(call(s, '/stock/12').traceId, second.traceId);
  // /price: first is free and has not called it; second's state rests on no sure link, so it is
  // not known to be waiting: both could — provisional, never a guess.
  call(s, '/price/10');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1, 'state rests on sure links only');
});

test('learned pattern: a parallel caller is not ruled out by a call it has out', async (t) => {
  const s = await sidecar({ min_samples: 10 });
  // /stock and /price leave together: the operation is seen with two calls out at once.
  for (let i = 0; i < 10; i++) {
    const r = arrive(s, `/orders/${i}`);
    s.clock.advance(0.2);
    const a = call(s, '/stock/1');
    s.clock.advance(0.05);
    const b = call(s, '/price/1');
    s.clock.advance(2);
    finish(a);
    finish(b);
    finish(r);
  }
  const first = arrive(s, '/orders/10');
  call(s, '/stock/10'); // certain: first has /stock out
  const health = arrive(s, '/health/10'); // never seen: not ruled out by anything
  // /price: first (parallel, so not blocked by its /stock) and the unknown /health could → provisional.
  call(s, '/price/10');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1);
  t.truthy(first && health);
});

test('timing never links online: a call that could be either request is provisional', async (t) => {
  const s = await sidecar({ min_samples: 10 });
  for (let i = 0; i < 10; i++) isolated(s, `/orders/${i}`, ['/stock/1'], 0.2);
  arrive(s, '/orders/20');
  s.clock.advance(50);
  arrive(s, '/orders/21');
  s.clock.advance(0.2);
  call(s, '/stock/21');
  t.is(
    s.outbound.metric('meshtrace.link.provisional'),
    1,
    '0.2 ms after one arrival and 50 ms after the other: still both',
  );
  t.is(s.outbound.metric('meshtrace.link.model'), undefined);
});

test('the registry is bounded: beyond max_inflight requests are not registered, and counted', async (t) => {
  const s = await sidecar({ max_inflight: 2 });
  arrive(s, '/orders/1');
  arrive(s, '/orders/2');
  arrive(s, '/orders/3');
  t.is(s.inbound.metric('meshtrace.link.registry_full'), 1);
  call(s, '/stock/1');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1);
});

test('an entry whose end was never seen expires after max_age_ms', async (t) => {
  const s = await sidecar({ max_age_ms: 1000 });
  arrive(s, '/orders/1'); // never answered
  s.clock.advance(1500);
  const r = arrive(s, '/orders/2');
  t.is(s.inbound.metric('meshtrace.link.expired'), 1);
  t.is(call(s, '/stock/2').traceId, r.traceId, 'the stale entry is gone: one candidate');
});

test('a reset inbound stream (no response) leaves the registry at its end', async (t) => {
  const s = await sidecar();
  const r = arrive(s, '/orders/1');
  r.stream.complete(); // on_log/on_done without response headers
  call(s, '/stock/1');
  t.is(s.outbound.metric('meshtrace.link.none'), 1);
});

test('without a linking section nothing is registered or linked', async (t) => {
  const sharedData = new SharedDataStore();
  const { host: inbound } = await loadFilter({ service_name: 'orders', direction: 'inbound' }, { sharedData });
  const { host: outbound } = await loadFilter({ service_name: 'orders', direction: 'outbound' }, { sharedData });
  const r = inbound.newHttpStream();
  r.callOnRequestHeaders(requestHeaders({ traceparent: CALLER }), true);
  const c = outbound.newHttpStream();
  c.callOnRequestHeaders(requestHeaders(), true);
  t.not(parse(c).traceId, '0af7651916cd43dd8448eb211c80319c');
  t.is(inbound.sharedData('meshtrace.link.inflight.orders'), undefined);
  t.deepEqual(
    Object.keys(outbound.metrics()).filter((k) => k.startsWith('meshtrace.link')),
    [],
  );
});

test('an unsampled inbound trace gives its linked call an unsampled context', async (t) => {
  const s = await sidecar();
  arrive(s, '/orders/1', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
  t.false(call(s, '/stock/1').sampled);
});

test('an id passed on: the one request in flight whose path shares a value gets the call', async (t) => {
  const s = await sidecar({ min_samples: 10 }, true);
  // Learned: /orders/<n> calls /stock/<n> — the id travels on.
  for (let i = 0; i < 10; i++) isolated(s, `/orders/${100 + i}`, [`/stock/${100 + i}`]);
  exported(s.inbound);
  exported(s.outbound);
  const a = arrive(s, '/orders/11');
  const b = arrive(s, '/orders/12');
  // Same moment, same operation, nothing called yet: only the id tells them apart.
  const cb = call(s, '/stock/12');
  const ca = call(s, '/stock/11');
  t.is(cb.traceId, b.traceId);
  t.is(ca.traceId, a.traceId);
  finish(cb);
  const [span] = exported(s.outbound);
  t.is(span?.attributes['meshtrace.link.method'], 'model');
  t.is(span?.attributes['meshtrace.link.confidence'], (10 + 1) / (10 + 2));
});

test('a shared value where the model never saw ids passed on decides nothing', async (t) => {
  const s = await sidecar({ min_samples: 10 });
  for (let i = 0; i < 10; i++) isolated(s, `/orders/${100 + i}`, ['/stock/7']); // never the order's id
  arrive(s, '/orders/11');
  arrive(s, '/orders/12');
  call(s, '/stock/12');
  t.is(s.outbound.metric('meshtrace.link.provisional'), 1);
});
