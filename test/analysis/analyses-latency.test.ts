import test from 'ava';
import { capacity } from '../../analysis/analyses/capacity.ts';
import { dependencyMap } from '../../analysis/analyses/dependency-map.ts';
import { latencyBreakdown } from '../../analysis/analyses/latency-breakdown.ts';
import { latencyCorrelations } from '../../analysis/analyses/latency-correlations.ts';
import type { Span } from '../../analysis/model.ts';
import { spansFromTimeline } from './fixtures/timeline-drawing.ts';

// The drawing from latency-breakdown.ts's doc comment (1 char = 1 ms; times at the '|').
const selfTimeCase = `
span                |==============================|
  A                    |=======|
  B                        |===|
  C                             |==========|
  D:producer                          |===============|
`;

test('self time: overlapping children count once, an async child outliving the span not at all', (t) => {
  const r = latencyBreakdown(spansFromTimeline(selfTimeCase));
  t.deepEqual(r.errors, []);
  const span = r.value.find((o) => o.operation === 'span')!;
  t.is(span.totalUs.p50, 31_000);
  // children waited for: A ∪ B = 3–11 (8 ms), C = 12–23 (11 ms) → self = 31 − 19
  t.is(span.selfUs.p50, 12_000);
  t.is(r.value.find((o) => o.operation === 'D')!.selfUs.p50, 16_000);
});

test('self time of a client span is corrected for a skewed server host', (t) => {
  const r = latencyBreakdown(
    spansFromTimeline(`
root                |====================|
  call:client         |==============|
    handle@b:server            |========|
`),
  );
  const call = r.value.find((o) => o.operation === 'call')!;
  // handle (9 ms) is centred in call (15 ms) after correction: 6 ms of network time remain
  t.is(call.selfUs.p50, 6_000);
});

test('latency breakdown reports a broken trace and analyses the others', (t) => {
  const ok = spansFromTimeline(selfTimeCase, 'a'.repeat(32));
  const bad = spansFromTimeline(selfTimeCase, 'b'.repeat(32)).map((s) => ({
    ...s,
    parentSpanId: s.parentSpanId ?? '0000000000000002',
  }));
  const r = latencyBreakdown([...ok, ...bad]);
  t.deepEqual(
    r.errors.map((e) => e.traceId),
    ['b'.repeat(32)],
  );
  t.is(r.value.find((o) => o.operation === 'span')!.count, 1);
});

function rpcTrace(n: number, caller: string, callee: string | null, peer: string | null, failed = false): Span[] {
  const traceId = n.toString(16).padStart(32, '0');
  const root = spansFromTimeline('root  |==========|', traceId)[0]!;
  root.service = caller;
  const client: Span = {
    ...root,
    spanId: 'c'.repeat(15) + (n % 10),
    parentSpanId: root.spanId,
    kind: 'client',
    name: 'call',
    startUs: 1000,
    endUs: 1000 + n * 100,
    attributes: peer ? { 'peer.service': peer } : {},
  };
  const spans = [root, client];
  if (callee) {
    spans.push({
      ...client,
      spanId: 'd'.repeat(15) + (n % 10),
      parentSpanId: client.spanId,
      kind: 'server',
      service: callee,
      startUs: 1010,
      endUs: 990 + n * 100,
      status: failed ? 'error' : 'unset',
      attributes: {},
    });
  }
  return spans;
}

test('dependency map: instrumented callees by their server spans, uninstrumented ones by peer.service', (t) => {
  const spans = [
    ...rpcTrace(1, 'web', 'api', 'api'),
    ...rpcTrace(2, 'web', 'api', 'api', true),
    ...rpcTrace(3, 'web', 'api', 'api'),
    ...rpcTrace(4, 'api', null, 'postgres'),
    ...rpcTrace(5, 'api', null, null),
  ];
  const edges = dependencyMap(spans);
  t.deepEqual(
    edges.map((e) => [e.caller, e.callee, e.calls, e.errors]),
    [
      ['api', 'postgres', 1, 0],
      ['web', 'api', 3, 1],
    ],
  );
  const api = edges.find((e) => e.callee === 'api')!;
  t.is(api.p50Us, 180); // server durations 80, 180, 280
  t.is(api.errorRate, 1 / 3);
});

function entry(service: string, startUs: number, durUs: number, attributes: Span['attributes'] = {}, i = 0): Span {
  const s = spansFromTimeline('x  |=|', (startUs + i).toString(16).padStart(32, '0'))[0]!;
  return {
    ...s,
    spanId: (i + 1).toString(16).padStart(16, '0'),
    service,
    kind: 'server',
    name: 'op',
    startUs,
    endUs: startUs + durUs,
    attributes,
  };
}

test('capacity: a hockey-stick curve has its knee where latency starts to climb; a flat one has none', (t) => {
  const spans: Span[] = [];
  let i = 0;
  // 1 s windows; throughput 10…100 req/s; latency flat at 10 ms up to 50 req/s, then +1 ms per req/s.
  for (let w = 0; w < 12; w++) {
    const rate = 10 + ((w * 37) % 11) * 9; // throughputs visited out of order
    const lat = 10_000 + Math.max(0, rate - 50) * 1_000;
    for (let k = 0; k < rate; k++) {
      spans.push(entry('hot', w * 1e6 + k * 100, lat, {}, i++));
      spans.push(entry('flat', w * 1e6 + k * 100, 10_000 + (k % 3), {}, i++));
    }
  }
  const byService = new Map(capacity(spans, { bins: 12 }).map((c) => [c.service, c]));
  // Measured throughputs are 19, 28, …, 100 (first and last windows are dropped as partial);
  // the true knee (50 req/s) lies between the points 46 and 55: either neighbour is right.
  const knee = byService.get('hot')!.knee!.throughputPerS;
  t.true(knee === 46 || knee === 55, `knee at ${knee}`);
  t.is(byService.get('flat')!.knee, null);
});

test('latency correlations: a driving attribute is found, a random one and a constant one are not', (t) => {
  const spans: Span[] = [];
  for (let i = 0; i < 100; i++) {
    const size = (i * 7919) % 100;
    spans.push(
      entry('svc', i * 1000, 1_000 + size * 50, { 'payload.size': size, noise: (i * 4447) % 13, constant: 5 }, i),
    );
  }
  const found = latencyCorrelations(spans);
  t.deepEqual(
    found.map((f) => [f.attribute, Number(f.rho.toFixed(3))]),
    [['payload.size', 1]],
  );
});
