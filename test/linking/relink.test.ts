// Re-parenting: linked calls join the inbound trace with their whole provisional subtree.
import test from 'ava';
import { CONFIDENCE, INFERRED } from '../../analysis/linking/attributes.ts';
import { assignProvisional, type Link, learnCallModel, relink } from '../../analysis/linking/index.ts';
import { syntheticWindow } from '../../analysis/linking/synthetic.ts';
import type { Span } from '../../analysis/model.ts';
import { sid, span, tid } from './spans.ts';

//  trace T1:  S (shop, GET /home)
//  trace T2:  O (shop → api, provisional) ─ D (api server) ─ O2 (api → db, provisional)
//  trace T3:  O2' … is its own provisional trace: P (api → db) ─ Q (db server)
//  links: O → S, P → D   ⇒ everything ends in T1
const fixture = (): Span[] => [
  span('S', 'GET /home', 'server', 0, 10_000, { trace: 'T1', workload: 'shop' }),
  span('O', 'GET /user', 'client', 100, 5000, { trace: 'T2', workload: 'shop', candidates: ['S'] }),
  span('D', 'GET /user', 'server', 200, 4900, { trace: 'T2', parent: 'O', workload: 'api' }),
  span('P', 'SELECT', 'client', 300, 4000, { trace: 'T3', workload: 'api', candidates: ['D'] }),
  span('Q', 'SELECT', 'server', 400, 3900, { trace: 'T3', parent: 'P' }),
  span('X', 'other', 'server', 0, 1, { trace: 'T9' }),
];
const link = (o: string, ot: string, i: string, it: string, confidence = 0.97): Link => ({
  outboundTraceId: tid(ot),
  outboundSpanId: sid(o),
  inboundTraceId: tid(it),
  inboundSpanId: sid(i),
  confidence,
});
const byId = (spans: Span[]) => new Map(spans.map((s) => [s.spanId, s]));

test('linked calls take the inbound parent and trace; descendants follow, chains end at the top', (t) => {
  const input = fixture();
  const before = structuredClone(input);
  const r = relink(input, [link('O', 'T2', 'S', 'T1', 0.97), link('P', 'T3', 'D', 'T2', 0.91)]);
  t.deepEqual(r.errors, []);
  t.deepEqual(input, before, 'input untouched');
  const m = byId(r.value);
  for (const id of ['S', 'O', 'D', 'P', 'Q']) t.is(m.get(sid(id))!.traceId, tid('T1'), id);
  t.is(m.get(sid('X'))!.traceId, tid('T9'));
  t.is(m.get(sid('O'))!.parentSpanId, sid('S'));
  t.is(m.get(sid('P'))!.parentSpanId, sid('D'));
  t.is(m.get(sid('D'))!.parentSpanId, sid('O'));
  t.is(m.get(sid('O'))!.attributes[CONFIDENCE], 0.97);
  t.is(m.get(sid('O'))!.attributes[INFERRED], true);
  t.is(m.get(sid('P'))!.attributes[CONFIDENCE], 0.91);
  t.is(m.get(sid('D'))!.attributes[INFERRED], undefined, 'only the inferred edge is marked');
  t.is(r.value.length, input.length);
  for (const [i, s] of r.value.entries()) t.not(s, input[i], 'every span is a new object');
});

const bad: [string, Link[], string][] = [
  [
    'unknown outbound',
    [link('nope', 'T2', 'S', 'T1')],
    `relink: outbound span ${tid('T2')}:${sid('nope')} not in the span set`,
  ],
  [
    'unknown inbound',
    [link('O', 'T2', 'nope', 'T1')],
    `relink: inbound span ${tid('T1')}:${sid('nope')} not in the span set`,
  ],
  [
    'linked twice',
    [link('O', 'T2', 'S', 'T1'), link('O', 'T2', 'X', 'T9')],
    `relink: outbound span ${tid('T2')}:${sid('O')} linked twice; first link kept`,
  ],
  [
    'cycle',
    [link('O', 'T2', 'Q', 'T3'), link('P', 'T3', 'D', 'T2')],
    `relink: link of ${tid('T2')}:${sid('O')} to ${tid('T3')}:${sid('Q')} makes a cycle; not applied`,
  ],
];
for (const [name, links, message] of bad) {
  test(`bad link is reported and skipped: ${name}`, (t) => {
    const r = relink(fixture(), links);
    t.true(r.errors.includes(message), `${name}: ${JSON.stringify(r.errors)}`);
    t.is(r.value.length, fixture().length);
    const o = byId(r.value).get(sid('O'))!;
    if (name === 'linked twice') t.is(o.traceId, tid('T1'));
    else if (name !== 'cycle') t.is(o.traceId, tid('T2'), name);
  });
}

test('a recorded ambiguous window is re-parented to the ground truth', (t) => {
  const model = learnCallModel(syntheticWindow({ concurrency: 1, requests: 300, seed: 1, linked: true }).spans);
  const w = syntheticWindow({ concurrency: 4, requests: 60, seed: 44 });
  const before = structuredClone(w.spans);
  const a = assignProvisional(w.spans, model);
  const r = relink(w.spans, a.links);
  t.deepEqual(r.errors, []);
  t.deepEqual(w.spans, before);
  const m = byId(r.value);
  let joined = 0;
  for (const l of a.links) {
    const o = m.get(l.outboundSpanId)!;
    const truthParent = m.get(w.truth.get(l.outboundSpanId)!)!;
    t.is(o.parentSpanId, truthParent.spanId);
    t.is(o.traceId, truthParent.traceId);
    // The downstream server span of the call joined the same trace.
    const downstream = r.value.find((s) => s.parentSpanId === o.spanId && s.kind === 'server')!;
    t.is(downstream.traceId, truthParent.traceId);
    joined++;
  }
  t.true(joined >= 0.8 * w.truth.size, `${joined}/${w.truth.size} linked`);
});
