// Hand-drawn windows of the "shop" workload (call patterns in analysis/linking/synthetic.ts)
// with the expected assignment. The model is learnt from a linked synthetic window.
import test from 'ava';
import { assignGreedy, assignProvisional, learnCallModel } from '../../analysis/linking/index.ts';
import { syntheticWindow } from '../../analysis/linking/synthetic.ts';
import type { Span } from '../../analysis/model.ts';
import { sid, span } from './spans.ts';

const model = learnCallModel(syntheticWindow({ concurrency: 1, requests: 300, seed: 1, linked: true }).spans);
const W = 'shop';
const inbound = (id: string, name: string, s: number, e: number) => span(id, name, 'server', s, e, { workload: W });
const call = (id: string, name: string, s: number, e: number, candidates: string[], workload = W) =>
  span(id, name, 'client', s, e, { workload, candidates });
const parentsOf = (links: { outboundSpanId: string; inboundSpanId: string }[]) =>
  Object.fromEntries(links.map((l) => [l.outboundSpanId, l.inboundSpanId]));

test('capacity resolves what timing alone cannot, where greedy goes wrong', (t) => {
  //  time (ms)   0    2    4    6    8   10   12   14
  //  A GET /home [=================================]            0 – 11.8
  //    uA         [==]                                          0.3 – 3.3  only A in flight
  //    rA              [==========================]             3.5 – 11.5 A or B (greedy: B)
  //  B GET /home          [=================================]   3.0 – 14.8
  //    uB                 [======]                              3.3 – 6.3  A or B
  //    rB                         [=======================]     6.5 – 14.5 only B contains it
  // A takes one GET /user and one GET /recs at most: uA fills A's /user, so uB is B's; rB can
  // only be B's, so rA is A's.
  const spans: Span[] = [
    inbound('A', 'GET /home', 0, 11_800),
    inbound('B', 'GET /home', 3000, 14_800),
    call('uA', 'GET /user', 300, 3300, ['A']),
    call('rA', 'GET /recs', 3500, 11_500, ['A', 'B']),
    call('uB', 'GET /user', 3300, 6300, ['A', 'B']),
    call('rB', 'GET /recs', 6500, 14_500, ['A', 'B']),
  ];
  const a = assignProvisional(spans, model);
  t.deepEqual(a.errors, []);
  t.deepEqual(parentsOf(a.links), {
    [sid('uA')]: sid('A'),
    [sid('rA')]: sid('A'),
    [sid('uB')]: sid('B'),
    [sid('rB')]: sid('B'),
  });
  t.true(a.links.every((l) => l.confidence >= 0.9 && l.confidence <= 1));
  t.is(parentsOf(assignGreedy(spans))[sid('rA')], sid('B'), 'the baseline picks the most recent request');
});

test('the call model rules out an operation that never makes the call', (t) => {
  //  A GET /home   [==============================]   0 – 12.3
  //  B GET /search   [===================]            0.5 – 9
  //    u GET /user     [======]                       0.8 – 3.8  in both; /search never calls /user
  const spans = [
    inbound('A', 'GET /home', 0, 12_300),
    inbound('B', 'GET /search', 500, 9000),
    call('u', 'GET /user', 800, 3800, ['A', 'B']),
  ];
  const a = assignProvisional(spans, model);
  t.deepEqual(parentsOf(a.links), { [sid('u')]: sid('A') });
  t.is(parentsOf(assignGreedy(spans))[sid('u')], sid('B'));
});

test('two indistinguishable requests: calls stay unlinked rather than guessed', (t) => {
  //  A GET /home [==========================]  0 – 11.8
  //  B GET /home [==========================]  0 – 11.8
  //    u1, u2     [==]                         0.30 / 0.31 – 3.3
  //    r1, r2         [===================]    3.50 / 3.51 – 11.5
  const both = ['A', 'B'];
  const spans = [
    inbound('A', 'GET /home', 0, 11_800),
    inbound('B', 'GET /home', 0, 11_800),
    call('u1', 'GET /user', 300, 3300, both),
    call('u2', 'GET /user', 310, 3310, both),
    call('r1', 'GET /recs', 3500, 11_500, both),
    call('r2', 'GET /recs', 3510, 11_510, both),
  ];
  const a = assignProvisional(spans, model, { threshold: 0.9 });
  t.deepEqual(a.links, []);
  t.is(a.unlinked.length, 4);
  for (const u of a.unlinked) {
    t.is(u.reason, 'below-threshold');
    t.true(u.best !== undefined && u.best.confidence < 0.6, `${u.outboundSpanId}: ${u.best?.confidence}`);
  }
  // With no threshold the same window is fully assigned, one call of each kind per request.
  const all = assignProvisional(spans, model, { threshold: 0 });
  t.is(all.links.length, 4);
  const perInbound = new Set(
    all.links.map((l) => `${l.inboundSpanId}:${l.outboundSpanId === sid('u1') || l.outboundSpanId === sid('u2')}`),
  );
  t.is(perInbound.size, 4);
});

test('hard constraints: empty candidate set, other workload, call outliving the request, over capacity', (t) => {
  //  A GET /home [======================]        0 – 11.8
  //    x  (candidates: none)  [==]
  //    y  (workload "other" naming A)  [==]
  //    z  GET /recs              [==============]  3.5 – 13   ends after A
  //    u1 u2 u3 GET /user: A makes at most one
  const spans = [
    inbound('A', 'GET /home', 0, 11_800),
    call('x', 'GET /user', 300, 3300, []),
    call('y', 'GET /user', 300, 3300, ['A'], 'other'),
    call('z', 'GET /recs', 3500, 13_000, ['A']),
    call('u1', 'GET /user', 300, 3300, ['A']),
    call('u2', 'GET /user', 1300, 4300, ['A']),
    call('u3', 'GET /user', 2300, 5300, ['A']),
  ];
  const a = assignProvisional(spans, model, { threshold: 0 });
  const reasons = Object.fromEntries(a.unlinked.map((u) => [u.outboundSpanId, u.reason]));
  t.is(reasons[sid('x')], 'no-candidate');
  t.is(reasons[sid('y')], 'no-candidate');
  t.is(reasons[sid('z')], 'no-candidate');
  t.deepEqual(parentsOf(a.links), { [sid('u1')]: sid('A') }, 'the best-fitting /user call takes the one slot');
  t.is(reasons[sid('u2')], 'over-capacity');
  t.is(reasons[sid('u3')], 'over-capacity');
});

test('a bad threshold is an error naming the value; the input is never mutated', (t) => {
  const spans = syntheticWindow({ concurrency: 4, requests: 30, seed: 5 }).spans;
  const before = structuredClone(spans);
  t.deepEqual(assignProvisional(spans, model, { threshold: 1.5 }).errors, [
    'assign: threshold must be within [0, 1], got 1.5',
  ]);
  const a = assignProvisional(spans, model);
  t.true(a.links.length > 0);
  assignGreedy(spans);
  t.deepEqual(spans, before);
});
