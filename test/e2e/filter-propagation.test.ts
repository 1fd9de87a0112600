// The built trace filter inside real Envoy 1.40, in front of a real upstream: each inbound
// format and none → what the upstream received and the client's traceresponse; malformed
// headers → a new trace, the request still succeeds, and the reason counter moves.
// One Envoy for the file; tests are serial so counter deltas belong to one request each.
import test from 'ava';
import { proxyBootstrap, type RunningEnvoy, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';
import { builtFilter, send, traceparent } from './filter-support.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const B3_TRACE = '80f198ee56343ba864fe8b2a57d3eff7';
const B3_SPAN = 'e457b5a2e4d86bd1';

interface Fixture {
  envoy: RunningEnvoy;
  upstream: Upstream;
  port: number;
  cleanups: (() => void | Promise<void>)[];
}

let fx: Fixture;

test.before(async () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  const owner = { teardown: (fn: () => void | Promise<void>) => void cleanups.push(fn) };
  const upstream = await startUpstream(owner);
  const port = await freePort();
  const filter = wasmHttpFilter(builtFilter(), {
    service_name: 'e2e',
    direction: 'inbound',
    propagation: { inbound: ['w3c', 'b3', 'b3multi', 'jaeger'], outbound: ['w3c', 'b3'] },
    traceresponse: true,
  });
  const envoy = await startEnvoy(
    owner,
    proxyBootstrap({ listenPort: port, upstreamPorts: [upstream.port], httpFilters: [filter] }),
  );
  fx = { envoy, upstream, port, cleanups };
});

test.after.always(async () => {
  for (const fn of (fx?.cleanups ?? []).reverse()) await fn();
});

let seq = 0;
/** Sends one request and returns the reply with what the upstream received for it. */
async function roundTrip(pairs: [string, string][]) {
  const path = `/r${++seq}`;
  const reply = await send(fx.port, path, pairs);
  const got = fx.upstream.received.find((r) => r.url === path);
  if (!got) throw new Error(`upstream never saw ${path} (status ${reply.status})\n${fx.envoy.logs()}`);
  return { reply, upstream: got.headers, raw: got.rawHeaders };
}

async function counters(): Promise<Map<string, number>> {
  return fx.envoy.stats('wasmcustom.meshtrace');
}

function delta(before: Map<string, number>, after: Map<string, number>, name: string): number {
  return (after.get(`wasmcustom.meshtrace.${name}`) ?? 0) - (before.get(`wasmcustom.meshtrace.${name}`) ?? 0);
}

/** Upstream's traceparent and the client's traceresponse agree: same trace, proxy span, flags. */
function assertTraceresponse(t: import('ava').ExecutionContext, up: ReturnType<typeof traceparent>, tr: unknown) {
  t.deepEqual(traceparent(tr), up, 'traceresponse names the proxy span the upstream saw as parent');
}

test.serial('no inbound context: a new trace, random + sampled, counted as started', async (t) => {
  const before = await counters();
  const { reply, upstream } = await roundTrip([]);
  t.is(reply.status, 200);
  const tp = traceparent(upstream['traceparent']);
  t.not(tp.traceId, '0'.repeat(32));
  t.is(tp.flags, '03', 'sampled (no sampler yet) and random (our ids are random)');
  t.is(upstream['b3'], `${tp.traceId}-${tp.spanId}-1`);
  t.is(upstream['tracestate'], undefined);
  assertTraceresponse(t, tp, reply.headers['traceresponse']);
  const after = await counters();
  t.is(delta(before, after, 'requests'), 1);
  t.is(delta(before, after, 'traces_started'), 1);
  t.is(delta(before, after, 'contexts_continued'), 0);
});

test.serial('w3c in: trace id and tracestate continued under a new proxy span', async (t) => {
  const before = await counters();
  const { reply, upstream } = await roundTrip([
    ['traceparent', `00-${TRACE}-${SPAN}-01`],
    ['tracestate', 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'],
  ]);
  t.is(reply.status, 200);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.traceId, TRACE);
  t.not(tp.spanId, SPAN, 'the proxy adds its own span');
  t.is(tp.flags, '01');
  t.is(upstream['tracestate'], 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  t.is(upstream['b3'], `${TRACE}-${tp.spanId}-1`);
  assertTraceresponse(t, tp, reply.headers['traceresponse']);
  const after = await counters();
  t.is(delta(before, after, 'contexts_continued'), 1);
  t.is(delta(before, after, 'traces_started'), 0);
});

test.serial('w3c in, not sampled: the decision is kept in both outbound formats', async (t) => {
  const { upstream } = await roundTrip([['traceparent', `00-${TRACE}-${SPAN}-00`]]);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.traceId, TRACE);
  t.is(tp.flags, '00');
  t.is(upstream['b3'], `${TRACE}-${tp.spanId}-0`);
});

test.serial('b3 single debug in: translated to w3c sampled, b3 keeps debug', async (t) => {
  const { reply, upstream } = await roundTrip([['b3', `${B3_TRACE}-${B3_SPAN}-d-05e3ac9a4f6e3b90`]]);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.traceId, B3_TRACE);
  t.not(tp.spanId, B3_SPAN);
  t.is(tp.flags, '01');
  t.is(upstream['b3'], `${B3_TRACE}-${tp.spanId}-d`);
  assertTraceresponse(t, tp, reply.headers['traceresponse']);
});

test.serial('b3 multi 64-bit in: padded to 128 bits; stale x-b3-* headers removed', async (t) => {
  const { upstream } = await roundTrip([
    ['X-B3-TraceId', 'a3ce929d0e0e4736'],
    ['X-B3-SpanId', B3_SPAN],
    ['X-B3-ParentSpanId', '05e3ac9a4f6e3b90'],
    ['X-B3-Sampled', '1'],
  ]);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.traceId, '0000000000000000a3ce929d0e0e4736');
  t.is(tp.flags, '01');
  for (const stale of ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled']) {
    t.is(upstream[stale], undefined, `${stale} must not reach the upstream`);
  }
});

test.serial('jaeger in: translated; uber-trace-id removed; uberctx and baggage pass through', async (t) => {
  const { upstream } = await roundTrip([
    ['uber-trace-id', `${TRACE}%3A${SPAN}%3A0%3A3`],
    ['uberctx-tenant', 'acme'],
    ['baggage', 'userId=alice'],
  ]);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.traceId, TRACE);
  t.is(tp.flags, '01');
  t.is(upstream['b3'], `${TRACE}-${tp.spanId}-d`, 'jaeger debug flag carried as b3 debug');
  t.is(upstream['uber-trace-id'], undefined);
  t.is(upstream['uberctx-tenant'], 'acme');
  t.is(upstream['baggage'], 'userId=alice');
});

test.serial('a lone b3 "0" starts an unsampled trace and is counted', async (t) => {
  const before = await counters();
  const { upstream } = await roundTrip([['b3', '0']]);
  const tp = traceparent(upstream['traceparent']);
  t.is(tp.flags, '02', 'not sampled, random ids');
  t.is(upstream['b3'], `${tp.traceId}-${tp.spanId}-0`);
  const after = await counters();
  t.is(delta(before, after, 'invalid_context.b3_sampling_only'), 1);
  t.is(delta(before, after, 'traces_started'), 1);
});

// Malformed inbound context: the request still succeeds, a new trace is started (a different
// trace id), and exactly the named reason counter moves.
const malformed: { name: string; headers: [string, string][]; reason: string }[] = [
  {
    name: 'bad hex (uppercase trace id)',
    headers: [['traceparent', `00-${TRACE.toUpperCase()}-${SPAN}-01`]],
    reason: 'traceparent_invalid_hex',
  },
  {
    name: 'non-hex span id',
    headers: [['traceparent', `00-${TRACE}-00f067aa0ba902zz-01`]],
    reason: 'traceparent_invalid_hex',
  },
  {
    name: 'trace id one char short',
    headers: [['traceparent', `00-${TRACE.slice(1)}-${SPAN}-01`]],
    reason: 'traceparent_malformed',
  },
  { name: 'version ff', headers: [['traceparent', `ff-${TRACE}-${SPAN}-01`]], reason: 'traceparent_invalid_version' },
  {
    name: 'all-zero trace id',
    headers: [['traceparent', `00-${'0'.repeat(32)}-${SPAN}-01`]],
    reason: 'traceparent_zero_trace_id',
  },
  {
    name: 'duplicated traceparent',
    headers: [
      ['traceparent', `00-${TRACE}-${SPAN}-01`],
      ['traceparent', `00-${TRACE}-${SPAN}-01`],
    ],
    reason: 'traceparent_duplicate',
  },
  { name: 'b3 span id of 15 chars', headers: [['b3', `${B3_TRACE}-${B3_SPAN.slice(1)}-1`]], reason: 'b3_malformed' },
  { name: 'b3 bad sampling state', headers: [['b3', `${B3_TRACE}-${B3_SPAN}-x`]], reason: 'b3_invalid_sampling' },
  { name: 'b3 multi without span id', headers: [['x-b3-traceid', B3_TRACE]], reason: 'b3multi_incomplete' },
  { name: 'jaeger with three fields', headers: [['uber-trace-id', `${TRACE}:${SPAN}:1`]], reason: 'jaeger_malformed' },
];

for (const c of malformed) {
  test.serial(`malformed: ${c.name} → new trace, request succeeds, ${c.reason} counted`, async (t) => {
    const before = await counters();
    const { reply, upstream } = await roundTrip(c.headers);
    t.is(reply.status, 200, c.name);
    const tp = traceparent(upstream['traceparent']);
    t.not(tp.traceId, TRACE, c.name);
    t.not(tp.traceId, B3_TRACE, c.name);
    const after = await counters();
    t.is(delta(before, after, `invalid_context.${c.reason}`), 1, c.name);
    t.is(delta(before, after, 'traces_started'), 1, c.name);
  });
}

test.serial('huge tracestate (> 8 KB): dropped with a reason, the traceparent context continues', async (t) => {
  const before = await counters();
  const members: string[] = [];
  for (let i = 0; members.join(',').length <= 8300; i++) members.push(`k${i}=${'v'.repeat(250)}`);
  const { reply, upstream } = await roundTrip([
    ['traceparent', `00-${TRACE}-${SPAN}-01`],
    ['tracestate', members.join(',')],
  ]);
  t.is(reply.status, 200);
  t.is(traceparent(upstream['traceparent']).traceId, TRACE);
  t.is(upstream['tracestate'], undefined, 'an oversized tracestate is not forwarded');
  const after = await counters();
  t.is(delta(before, after, 'invalid_context.tracestate_too_long'), 1);
  t.is(delta(before, after, 'contexts_continued'), 1);
});

test.serial('the proxy span id differs per request for the same inbound context', async (t) => {
  const a = traceparent((await roundTrip([['traceparent', `00-${TRACE}-${SPAN}-01`]])).upstream['traceparent']);
  const b = traceparent((await roundTrip([['traceparent', `00-${TRACE}-${SPAN}-01`]])).upstream['traceparent']);
  t.is(a.traceId, b.traceId);
  t.not(a.spanId, b.spanId);
});
