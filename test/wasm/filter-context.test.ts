// Per-request behaviour of the BUILT filter through the TypeScript Proxy-Wasm host: context
// continued per inbound format, a new trace with ids from WASI random_get when there is none,
// stale propagation headers replaced, traceresponse on the response, and the counters.
import test from 'ava';
import { fixedRandom, seededRandom } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { HeaderPair } from '../support/proxy-wasm-host/header-map.ts';
import type { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
/** Random bytes 0x01, 0x02, … so drawn ids are predictable: the filter hex-encodes them in order. */
const COUNTING = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
const hexOf = (from: number, n: number) => Buffer.from(COUNTING.subarray(from, from + n)).toString('hex');

const PROPAGATION = new Set([
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'uber-trace-id',
]);
const propagationHeaders = (pairs: HeaderPair[]) => pairs.filter(([k]) => PROPAGATION.has(k));

async function oneRequest(
  config: object,
  inbound: [string, string][],
  host?: ProxyWasmHost,
): Promise<{ host: ProxyWasmHost; sent: HeaderPair[]; response: HeaderPair[] }> {
  let h = host;
  if (!h) {
    const loaded = await loadFilter(config, { random: fixedRandom(COUNTING) });
    if (!loaded.configured) throw new Error(`filter refused ${JSON.stringify(config)}: ${loaded.host.logMessages()}`);
    h = loaded.host;
  }
  const s = h.newHttpStream();
  const reqAction = s.callOnRequestHeaders(requestHeaders(inbound), true);
  const respAction = s.callOnResponseHeaders({ ':status': '200', 'content-type': 'text/plain' }, false);
  if (reqAction !== 0 || respAction !== 0) throw new Error(`filter paused the stream (${reqAction}, ${respAction})`);
  const sent = s.currentRequestHeaders();
  const response = s.currentResponseHeaders();
  s.complete();
  return { host: h, sent, response };
}

test('no inbound context: a new trace with trace and span ids drawn from random_get', async (t) => {
  const { sent, response } = await oneRequest({}, []);
  const traceparent = `00-${hexOf(0, 16)}-${hexOf(16, 8)}-03`;
  t.deepEqual(propagationHeaders(sent), [['traceparent', traceparent]], 'sampled + random flag (W3C Level 2)');
  t.deepEqual(
    response.find(([k]) => k === 'traceresponse'),
    ['traceresponse', traceparent],
  );
});

const continued: { name: string; inbound: [string, string][]; trace: string; flags: string }[] = [
  { name: 'W3C traceparent', inbound: [['traceparent', `00-${TRACE}-${PARENT}-01`]], trace: TRACE, flags: '01' },
  { name: 'W3C not sampled', inbound: [['traceparent', `00-${TRACE}-${PARENT}-00`]], trace: TRACE, flags: '00' },
  { name: 'B3 single', inbound: [['b3', `${TRACE}-${PARENT}-1`]], trace: TRACE, flags: '01' },
  {
    name: 'B3 single, 64-bit trace id',
    inbound: [['b3', `a3ce929d0e0e4736-${PARENT}-1`]],
    trace: '0000000000000000a3ce929d0e0e4736',
    flags: '01',
  },
  {
    name: 'B3 multi',
    inbound: [
      ['X-B3-TraceId', TRACE],
      ['X-B3-SpanId', PARENT],
      ['X-B3-Sampled', '1'],
    ],
    trace: TRACE,
    flags: '01',
  },
  { name: 'Jaeger', inbound: [['uber-trace-id', `${TRACE}:${PARENT}:0:1`]], trace: TRACE, flags: '01' },
  {
    name: 'Jaeger url-encoded',
    inbound: [['uber-trace-id', `${TRACE}%3A${PARENT}%3A0%3A1`]],
    trace: TRACE,
    flags: '01',
  },
];

for (const c of continued) {
  test(`continues ${c.name}: same trace, the proxy's own span id, inbound headers replaced by W3C`, async (t) => {
    const { sent, response, host } = await oneRequest({}, c.inbound);
    const expected = `00-${c.trace}-${hexOf(0, 8)}-${c.flags}`;
    t.deepEqual(propagationHeaders(sent), [['traceparent', expected]], c.name);
    t.deepEqual(
      response.find(([k]) => k === 'traceresponse'),
      ['traceresponse', expected],
      c.name,
    );
    t.is(host.metric('meshtrace.contexts_continued'), 1, c.name);
    t.is(host.metric('meshtrace.traces_started'), 0, c.name);
  });
}

test('outbound in every format carries one trace id and the proxy span id', async (t) => {
  const { sent } = await oneRequest({ propagation: { outbound: ['w3c', 'b3', 'b3multi', 'jaeger'] } }, [
    ['traceparent', `00-${TRACE}-${PARENT}-01`],
  ]);
  const span = hexOf(0, 8);
  t.deepEqual(propagationHeaders(sent), [
    ['traceparent', `00-${TRACE}-${span}-01`],
    ['b3', `${TRACE}-${span}-1`],
    ['x-b3-traceid', TRACE],
    ['x-b3-spanid', span],
    ['x-b3-sampled', '1'],
    ['uber-trace-id', `${TRACE}:${span}:0:1`],
  ]);
});

test('stale headers are replaced: duplicates collapse and formats not emitted are removed', async (t) => {
  const { sent } = await oneRequest({}, [
    ['traceparent', `00-${TRACE}-${PARENT}-01`],
    ['traceparent', `00-${TRACE}-1111111111111111-01`],
    ['b3', `${TRACE}-${PARENT}-1`],
    ['x-b3-sampled', '1'],
    ['uber-trace-id', `${TRACE}:${PARENT}:0:1`],
  ]);
  const w3c = propagationHeaders(sent);
  t.is(w3c.length, 1, JSON.stringify(w3c));
  t.is(w3c[0]?.[0], 'traceparent');
  t.regex(w3c[0]?.[1] ?? '', new RegExp(`^00-${TRACE}-${hexOf(0, 8)}-01$`));
});

test('W3C tracestate and baggage travel on untouched; other headers are left alone', async (t) => {
  const { sent } = await oneRequest({}, [
    ['traceparent', `00-${TRACE}-${PARENT}-01`],
    ['tracestate', 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'],
    ['baggage', 'userId=alice,serverNode=DF%2028'],
    ['authorization', 'Bearer secret'],
  ]);
  t.deepEqual(
    sent.find(([k]) => k === 'tracestate'),
    ['tracestate', 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'],
  );
  t.deepEqual(
    sent.find(([k]) => k === 'baggage'),
    ['baggage', 'userId=alice,serverNode=DF%2028'],
  );
  t.deepEqual(
    sent.find(([k]) => k === 'authorization'),
    ['authorization', 'Bearer secret'],
  );
  t.deepEqual(sent.slice(0, 5), requestHeaders().slice(0, 5), 'pseudo-headers and x-request-id unchanged');
});

const malformed: { name: string; inbound: [string, string][]; reason: string }[] = [
  {
    name: 'upper-case hex',
    inbound: [['traceparent', `00-${TRACE.toUpperCase()}-${PARENT}-01`]],
    reason: 'traceparent_invalid_hex',
  },
  { name: 'short traceparent', inbound: [['traceparent', `00-${TRACE}-${PARENT}`]], reason: 'traceparent_malformed' },
  {
    name: 'all-zero trace id',
    inbound: [['traceparent', `00-${'0'.repeat(32)}-${PARENT}-01`]],
    reason: 'traceparent_zero_trace_id',
  },
  { name: 'version ff', inbound: [['traceparent', `ff-${TRACE}-${PARENT}-01`]], reason: 'traceparent_invalid_version' },
];

for (const c of malformed) {
  test(`malformed ${c.name}: a new trace is started, the reason is counted, the bad header is gone`, async (t) => {
    const { sent, host } = await oneRequest({ propagation: { inbound: ['w3c'] } }, c.inbound);
    const tp = propagationHeaders(sent);
    t.deepEqual(tp, [['traceparent', `00-${hexOf(0, 16)}-${hexOf(16, 8)}-03`]], c.name);
    t.is(host.metric(`meshtrace.invalid_context.${c.reason}`), 1, JSON.stringify(host.metrics()));
    t.is(host.metric('meshtrace.traces_started'), 1);
  });
}

test('only the configured inbound formats are read', async (t) => {
  const { sent } = await oneRequest({ propagation: { inbound: ['w3c'] } }, [['b3', `${TRACE}-${PARENT}-1`]]);
  const tp = propagationHeaders(sent);
  t.is(tp.length, 1);
  t.not(tp[0]?.[1].slice(3, 35), TRACE, 'a B3 context is not continued when only w3c is accepted');
});

test('traceresponse can be turned off', async (t) => {
  const { response } = await oneRequest({ traceresponse: false }, [['traceparent', `00-${TRACE}-${PARENT}-01`]]);
  t.is(
    response.find(([k]) => k === 'traceresponse'),
    undefined,
  );
  t.deepEqual(response, [
    [':status', '200'],
    ['content-type', 'text/plain'],
  ]);
});

test('counters add up over mixed requests', async (t) => {
  const { host } = await loadFilter({}, { random: fixedRandom(new Uint8Array(4096).fill(7)) });
  const inbound: [string, string][][] = [
    [],
    [['traceparent', `00-${TRACE}-${PARENT}-01`]],
    [['b3', `${TRACE}-${PARENT}-1`]],
    [['traceparent', 'garbage']],
    [],
  ];
  for (const headers of inbound) await oneRequest({}, headers, host);
  t.is(host.metric('meshtrace.requests'), 5);
  t.is(host.metric('meshtrace.contexts_continued'), 2);
  t.is(host.metric('meshtrace.traces_started'), 3);
  t.is(host.metric('meshtrace.invalid_context.traceparent_malformed'), 1, JSON.stringify(host.metrics()));
  t.is(host.liveContexts(), 1, 'every stream context was deleted');
});

test('the default random source is seeded: two hosts draw the same ids, other seeds differ', async (t) => {
  const first = async (options: Parameters<typeof loadFilter>[1] = {}) => {
    const { host } = await loadFilter({}, options);
    const s = host.newHttpStream();
    s.callOnRequestHeaders(requestHeaders(), true);
    return s.requestHeader('traceparent');
  };
  const a = await first();
  t.regex(a ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  t.is(await first(), a);
  t.not(await first({ random: seededRandom(2) }), a);
});
