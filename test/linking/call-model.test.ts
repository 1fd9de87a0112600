// The call model learnt from a linked synthetic window recovers the generator's patterns.
import test from 'ava';
import { capacityOf, edgeLogLikelihood, learnCallModel, patternKey } from '../../analysis/linking/index.ts';
import { syntheticWindow } from '../../analysis/linking/synthetic.ts';
import { span } from './spans.ts';

const model = learnCallModel(syntheticWindow({ concurrency: 1, requests: 300, seed: 1, linked: true }).spans);

test('operations, counts and order per inbound operation', (t) => {
  const search = model.patterns.get(patternKey('shop', 'GET /search'))!;
  t.true(search.samples > 50);
  t.deepEqual([...search.outbound.keys()].sort(), ['GET /ads', 'GET /index']);
  t.is(search.outbound.get('GET /index')!.maxCount, 3);
  t.is(search.outbound.get('GET /index')!.share, 1);
  const mean = search.outbound.get('GET /index')!.meanCount;
  t.true(mean > 1.6 && mean < 2.4, `mean /index calls ${mean}`);
  const checkout = model.patterns.get(patternKey('shop', 'POST /checkout'))!;
  for (const s of checkout.sequences) {
    t.is(s.operations[0], 'GET /cart');
    t.is(s.operations.at(-1), 'POST /notify');
  }
  t.is(capacityOf(model, 'shop', 'GET /home', 'GET /index'), 0);
  t.is(capacityOf(model, 'shop', 'GET /unknown', 'GET /index'), Number.POSITIVE_INFINITY);
});

test('delays: /user leaves ~0.3 ms after /home starts, /recs after /user returns', (t) => {
  const home = model.patterns.get(patternKey('shop', 'GET /home'))!;
  const userDelay = Math.exp(home.outbound.get('GET /user')!.delay.mu);
  t.true(userDelay > 200 && userDelay < 450, `median /user delay ${userDelay} µs`);
  const recsAfter = Math.exp(home.outbound.get('GET /recs')!.afterPrevious.mu);
  t.true(recsAfter > 120 && recsAfter < 320, `median gap before /recs ${recsAfter} µs`);
  t.is(home.outbound.get('GET /user')!.afterPrevious.n, 0, '/user is always the first call');
});

test('edge likelihood: fitting timing beats misfitting; unseen call is impossible; unknown op neutral', (t) => {
  const a = span('A', 'GET /home', 'server', 0, 11_800, { workload: 'shop' });
  const fit = edgeLogLikelihood(model, 'shop', a, span('u', 'GET /user', 'client', 300, 3300))!;
  const late = edgeLogLikelihood(model, 'shop', a, span('u', 'GET /user', 'client', 6000, 9000))!;
  t.true(fit > late + 5, `${fit} vs ${late}`);
  t.is(edgeLogLikelihood(model, 'shop', a, span('i', 'GET /index', 'client', 300, 3300)), null);
  const unknown = span('B', 'GET /unknown', 'server', 0, 11_800, { workload: 'shop' });
  t.is(edgeLogLikelihood(model, 'shop', unknown, span('u', 'GET /user', 'client', 300, 3300)), 0);
});

test('inferred links never train the model', (t) => {
  const s = span('S', 'GET /home', 'server', 0, 1000, { trace: 'T', workload: 'w' });
  const c = span('C', 'GET /x', 'client', 10, 500, { trace: 'T', parent: 'S', workload: 'w' });
  c.attributes['meshtrace.link.inferred'] = true;
  const m = learnCallModel([s, c]);
  // Not even a sample: with a guessed call in flight, the request's own pattern is uncertain.
  t.is(m.patterns.get(patternKey('w', 'GET /home')), undefined);
  t.is(
    learnCallModel([s, { ...c, attributes: { 'meshtrace.workload': 'w' } }]).patterns.get(patternKey('w', 'GET /home'))!
      .outbound.size,
    1,
  );
});

test('a call the sidecar linked with one request in flight is certain and trains the model; a model link does not', (t) => {
  const s = span('S', 'GET /home', 'server', 0, 1000, { trace: 'T', workload: 'w' });
  const c = span('C', 'GET /x', 'client', 10, 500, { trace: 'T', parent: 'S', workload: 'w' });
  const linked = (method: string) => ({
    ...c,
    attributes: { ...c.attributes, 'meshtrace.link.inferred': true, 'meshtrace.link.method': method },
  });
  t.is(learnCallModel([s, linked('single')]).patterns.get(patternKey('w', 'GET /home'))?.outbound.size, 1);
  t.is(learnCallModel([s, linked('model')]).patterns.get(patternKey('w', 'GET /home')), undefined);
});

test('spans named only by their method are told apart by path template and called server', (t) => {
  const s = span('S', 'GET', 'server', 0, 1000, { trace: 'T', workload: 'w' });
  s.attributes['url.path'] = '/order/42';
  const c = span('C', 'GET', 'client', 10, 500, { trace: 'T', parent: 'S', workload: 'w' });
  c.attributes['url.path'] = '/stock/42';
  c.attributes['server.address'] = 'inventory:80';
  const p = learnCallModel([s, c]).patterns.get(patternKey('w', 'GET /order/*'));
  t.deepEqual([...(p?.outbound.keys() ?? [])], ['GET inventory:80/stock/*']);
});
