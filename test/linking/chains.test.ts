// The trigger model and the chain assignment (analysis/linking/chain-model.ts, assign-chains.ts)
// on hand-drawn windows. Times are µs. Training: clean requests of the same workload, each a
// chain A → S item · F item → S quote · F quote → E, reacting in ~100 µs.
import test from 'ava';
import { PROVISIONAL } from '../../analysis/linking/attributes.ts';
import { assignByChains, learnChainModel, linkWindow, relink } from '../../analysis/linking/index.ts';
import type { Span } from '../../analysis/model.ts';
import { sid, span } from './spans.ts';

/** An inbound request GET /order/<n> of workload `shop`, with its calls (certain unless told). */
function request(
  id: string,
  n: number,
  start: number,
  end: number,
  calls: { id: string; op: 'item' | 'quote'; start: number; end: number; value?: number; conn?: number }[],
  certain = true,
): Span[] {
  const r = span(id, 'GET', 'server', start, end, { trace: `T${id}`, workload: 'shop' });
  r.attributes['url.path'] = `/order/${n}`;
  const out: Span[] = [r];
  for (const c of calls) {
    const s = span(
      c.id,
      'GET',
      'client',
      c.start,
      c.end,
      certain
        ? { trace: `T${id}`, parent: id, workload: 'shop' }
        : {
            trace: `P${c.id}`,
            workload: 'shop',
          },
    );
    s.attributes['url.path'] = `/${c.op}/${c.value ?? n}`;
    s.attributes['server.address'] = c.op === 'item' ? 'inventory:80' : 'pricing:80';
    if (c.conn !== undefined) s.attributes['envoy.connection_id'] = c.conn;
    if (!certain) {
      s.attributes[PROVISIONAL] = true;
      s.attributes['meshtrace.link.method'] = 'provisional';
    }
    out.push(s);
  }
  return out;
}

/** 40 clean requests, one after another: item then quote, ~100 µs reactions, ids passed on. */
function training(opts: { passValues?: boolean; sameConnection?: boolean } = {}): Span[] {
  const out: Span[] = [];
  for (let i = 0; i < 40; i++) {
    const t = i * 100_000;
    const j = (i * 37) % 50; // a little jitter
    out.push(
      ...request(`tr${i}`, 1000 + i, t, t + 8_300 + j, [
        {
          id: `ti${i}`,
          op: 'item',
          start: t + 100 + j,
          end: t + 3_100 + j,
          value: opts.passValues === false ? 77 : undefined,
          conn: 1000 + 2 * i,
        },
        {
          id: `tq${i}`,
          op: 'quote',
          start: t + 3_200 + j,
          end: t + 8_200 + j,
          value: opts.passValues === false ? 77 : undefined,
          conn: opts.sameConnection ? 1000 + 2 * i : 1001 + 2 * i,
        },
      ]),
    );
  }
  return out;
}

const parentOf = (spans: Span[], id: string) => spans.find((s) => s.spanId === sid(id))?.parentSpanId;

test('the model learns triggers, gaps, shared values and connection reuse from clean requests', (t) => {
  const m = learnChainModel(training({ sameConnection: true }));
  const w = m.workloads.get('shop');
  t.is(w?.requests, 40);
  const fromItemEnd = w?.byType.get('F GET inventory:80/item/*');
  t.is(fromItemEnd?.triggered, 40, 'an answer from item always sets something off');
  const toQuote = fromItemEnd?.to.get('S GET pricing:80/quote/*');
  t.is(toQuote?.n, 40);
  t.true(
    Math.exp(toQuote!.gap.mu) > 50 && Math.exp(toQuote!.gap.mu) < 200,
    `~100 µs, got ${Math.exp(toQuote!.gap.mu)}`,
  );
  t.is(toQuote?.sameConnection, 40);
  t.deepEqual(w?.values.get('GET /order/*\u0000GET inventory:80/item/*'), { n: 40, hits: 40 });
  t.is(w?.byType.get('S GET inventory:80/item/*')?.triggered, 0, 'a sequential call sets nothing off at its start');
});

//   a  A──S item══════F─S quote═══════════F─E            (request a, n=1)
//   b        A──S item═══════════F──S quote══════F─E     (request b, n=2)
// Calls left provisional; values not passed on (the learned pairs never shared one), so only
// triggers decide: each start follows its own request's last event by ~100 µs.
test('overlapping requests: each call goes to the request whose last event it follows', (t) => {
  const model = learnChainModel(training({ passValues: false }));
  const window = [
    ...request(
      'a',
      1,
      0,
      8_300,
      [
        { id: 'ai', op: 'item', start: 100, end: 3_100, value: 77 },
        { id: 'aq', op: 'quote', start: 3_200, end: 8_200, value: 77 },
      ],
      false,
    ),
    ...request(
      'b',
      2,
      1_500,
      10_800,
      [
        { id: 'bi', op: 'item', start: 1_600, end: 5_600, value: 77 },
        { id: 'bq', op: 'quote', start: 5_700, end: 10_700, value: 77 },
      ],
      false,
    ),
  ];
  const a = assignByChains(window, model);
  t.deepEqual(a.errors, []);
  const got = Object.fromEntries(a.links.map((l) => [l.outboundSpanId, l.inboundSpanId]));
  t.deepEqual(got, { [sid('ai')]: sid('a'), [sid('aq')]: sid('a'), [sid('bi')]: sid('b'), [sid('bq')]: sid('b') });
  t.true(a.links.every((l) => l.confidence >= 0.9 && l.confidence <= 1));
});

//   a  A─S item═══F───────────S? quote══F─E
//   b    A─S item═══F─────────S? quote══F─E
// The two quotes start 20 µs apart, 900 µs after both items ended: timing cannot tell them apart.
test('indistinguishable calls stay unlinked rather than guessed', (t) => {
  const model = learnChainModel(training({ passValues: false }));
  const window = [
    ...request(
      'a',
      1,
      0,
      9_000,
      [
        { id: 'ai', op: 'item', start: 100, end: 3_000, value: 77 },
        { id: 'aq', op: 'quote', start: 3_900, end: 8_900, value: 77 },
      ],
      false,
    ),
    ...request(
      'b',
      2,
      20,
      9_020,
      [
        { id: 'bi', op: 'item', start: 120, end: 3_020, value: 77 },
        { id: 'bq', op: 'quote', start: 3_920, end: 8_920, value: 77 },
      ],
      false,
    ),
  ];
  const truth: Record<string, string> = {
    [sid('ai')]: sid('a'),
    [sid('aq')]: sid('a'),
    [sid('bi')]: sid('b'),
    [sid('bq')]: sid('b'),
  };
  // By timing alone nothing is decided.
  const timing = assignByChains(window, model, { orderEvidence: false });
  t.deepEqual(timing.links, []);
  t.deepEqual(
    timing.unlinked.map((u) => u.reason),
    ['below-threshold', 'below-threshold', 'below-threshold', 'below-threshold'],
  );
  // Order evidence (a arrived, started and answered first) may place the first calls, no more
  // sure than order is; which quote continues which item stays open.
  const a = assignByChains(window, model);
  t.deepEqual(
    a.links.filter((l) => truth[l.outboundSpanId] !== l.inboundSpanId),
    [],
    'no wrong link',
  );
  t.true(a.links.every((l) => l.confidence <= 0.93));
  t.deepEqual(a.unlinked.map((u) => u.outboundSpanId).sort(), [sid('aq'), sid('bq')].sort());
});

test('a value passed on anchors a call that timing alone cannot place', (t) => {
  const model = learnChainModel(training());
  const window = [
    ...request(
      'a',
      1,
      0,
      9_000,
      [
        { id: 'ai', op: 'item', start: 100, end: 3_000 },
        { id: 'aq', op: 'quote', start: 3_900, end: 8_900 },
      ],
      false,
    ),
    ...request(
      'b',
      2,
      20,
      9_020,
      [
        { id: 'bi', op: 'item', start: 120, end: 3_020 },
        { id: 'bq', op: 'quote', start: 3_920, end: 8_920 },
      ],
      false,
    ),
  ];
  const got = Object.fromEntries(assignByChains(window, model).links.map((l) => [l.outboundSpanId, l.inboundSpanId]));
  t.deepEqual(got, { [sid('ai')]: sid('a'), [sid('aq')]: sid('a'), [sid('bi')]: sid('b'), [sid('bq')]: sid('b') });
});

//   a  A─S item════════════F───────S quote═══F─E        (connection 11)
//   b          A─S item═══F─────────S quote══F─E        (connection 12)
// The items are clear (each follows its arrival); the two quotes start 20 µs apart, ~900 µs
// after both items ended: only the connection each left on says whose continuation it is.
test('a learned keep-alive connection tells two otherwise equal continuations apart', (t) => {
  const model = learnChainModel(training({ passValues: false, sameConnection: true }));
  const window = [
    ...request(
      'a',
      1,
      0,
      9_000,
      [
        { id: 'ai', op: 'item', start: 100, end: 3_000, value: 77, conn: 11 },
        { id: 'aq', op: 'quote', start: 3_920, end: 8_900, value: 77, conn: 11 },
      ],
      false,
    ),
    ...request(
      'b',
      2,
      1_500,
      9_020,
      [
        { id: 'bi', op: 'item', start: 1_600, end: 3_020, value: 77, conn: 12 },
        { id: 'bq', op: 'quote', start: 3_900, end: 8_920, value: 77, conn: 12 },
      ],
      false,
    ),
  ];
  const got = Object.fromEntries(assignByChains(window, model).links.map((l) => [l.outboundSpanId, l.inboundSpanId]));
  t.is(got[sid('aq')], sid('a'));
  t.is(got[sid('bq')], sid('b'));
  // The same window without connection ids cannot be decided for the quotes.
  const bare = window.map((s) => {
    const { 'envoy.connection_id': _, ...rest } = s.attributes;
    return { ...s, attributes: rest };
  });
  const without = assignByChains(bare, model).links.map((l) => l.outboundSpanId);
  t.false(without.includes(sid('aq')) && without.includes(sid('bq')));
});

//   a  A─S item════F·····················S quote══════════F─E   (connection 11: the app paused ~6 ms)
//   b        A─S item══════════════F─S quote══F─E                  (connection 12)
// Timing alone places a's quote nowhere: its answer came far beyond any learned reaction. But the
// model saw this app send a request's quote on the connection its item used, every time, and
// connection 11 carried one call at a time: only a's item can have set it off.
test('a one-at-a-time connection ties a continuation to the call before it, however late', (t) => {
  // 80 clean requests: "nearly always" needs more than 40 to be sure of (assign-chains.ts KEEPS_CONNECTION).
  const once = training({ passValues: false, sameConnection: true });
  const later = once.map((s) => ({
    ...s,
    traceId: `${s.traceId.slice(0, 28)}ffff`,
    spanId: `${s.spanId.slice(0, 12)}ffff`,
    parentSpanId: s.parentSpanId && `${s.parentSpanId.slice(0, 12)}ffff`,
    startUs: s.startUs + 10_000_000,
    endUs: s.endUs + 10_000_000,
  }));
  const model = learnChainModel([...once, ...later]);
  t.is(model.workloads.get('shop')?.requests, 80);
  const window = (aqConn: number, biConn: number) => [
    ...request(
      'a',
      1,
      0,
      20_000,
      [
        { id: 'ai', op: 'item', start: 100, end: 3_000, value: 77, conn: 11 },
        { id: 'aq', op: 'quote', start: 9_000, end: 19_000, value: 77, conn: aqConn },
      ],
      false,
    ),
    ...request(
      'b',
      2,
      1_500,
      12_000,
      [
        { id: 'bi', op: 'item', start: 1_600, end: 8_800, value: 77, conn: biConn },
        { id: 'bq', op: 'quote', start: 8_900, end: 11_900, value: 77, conn: 12 },
      ],
      false,
    ),
  ];
  const got = Object.fromEntries(
    assignByChains(window(11, 12), model).links.map((l) => [l.outboundSpanId, l.inboundSpanId]),
  );
  t.is(got[sid('aq')], sid('a'));
  t.is(got[sid('bq')], sid('b'));
  // On another connection, or on one that carried two calls at once (multiplexed), the rule
  // does not apply and the late quote is not placed.
  for (const [aqConn, biConn] of [
    [13, 12],
    [11, 11],
  ] as const) {
    const links = assignByChains(window(aqConn, biConn), model).links;
    t.false(
      links.some((l) => l.outboundSpanId === sid('aq') && l.inboundSpanId === sid('a')),
      `quote on ${aqConn}, b's item on ${biConn}`,
    );
  }
});

test('a workload never observed cleanly is not guessed at', (t) => {
  const window = request('a', 1, 0, 8_300, [{ id: 'ai', op: 'item', start: 100, end: 3_100 }], false);
  const a = assignByChains(window, learnChainModel([]));
  t.deepEqual(a.links, []);
  t.deepEqual(
    a.unlinked.map((u) => u.reason),
    ['untrained'],
  );
});

test('linkWindow detaches an online model link it cannot confirm; descendants follow into a trace of their own', (t) => {
  const window = [
    ...request('a', 1, 0, 9_000, [{ id: 'ai', op: 'item', start: 100, end: 3_000, value: 77 }], false),
    ...request('b', 2, 20, 9_020, [{ id: 'bi', op: 'item', start: 120, end: 3_020, value: 77 }], false),
  ];
  // The sidecar's model put bi under a (a guess); bi's callee span hangs below it.
  const bi = window.find((s) => s.spanId === sid('bi'))!;
  const a = window.find((s) => s.spanId === sid('a'))!;
  Object.assign(bi, { traceId: a.traceId, parentSpanId: a.spanId });
  delete bi.attributes[PROVISIONAL];
  bi.attributes['meshtrace.link.method'] = 'model';
  bi.attributes['meshtrace.link.inferred'] = true;
  const callee = span('x', 'GET', 'server', 200, 2_900, { trace: 'Ta', parent: 'bi' });
  callee.traceId = a.traceId;
  const input = [...window, callee];
  const before = JSON.stringify(input);
  const out = linkWindow(input, { history: training({ passValues: false }) });
  t.is(JSON.stringify(input), before, 'input untouched');
  const bi2 = out.value.find((s) => s.spanId === sid('bi'))!;
  t.is(bi2.parentSpanId, null, 'the unconfirmed guess is undone');
  t.is(bi2.attributes[PROVISIONAL], true);
  t.not(bi2.traceId, a.traceId);
  t.is(out.value.find((s) => s.spanId === sid('x'))?.traceId, bi2.traceId, 'its subtree moves with it');
  t.deepEqual(out.detached, [{ traceId: a.traceId, spanId: sid('bi') }]);
});

test('relink: a span both linked and detached is linked', (t) => {
  const window = request('a', 1, 0, 9_000, [{ id: 'ai', op: 'item', start: 100, end: 3_000 }], false);
  const ai = window[1]!;
  const r = relink(
    window,
    [
      {
        outboundTraceId: ai.traceId,
        outboundSpanId: ai.spanId,
        inboundTraceId: window[0]!.traceId,
        inboundSpanId: window[0]!.spanId,
        confidence: 0.95,
      },
    ],
    [{ traceId: ai.traceId, spanId: ai.spanId }],
  );
  t.is(parentOf(r.value, 'ai'), sid('a'));
});
