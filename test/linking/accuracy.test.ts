// Accuracy of the global assignment against ground truth on seeded synthetic windows, with the
// greedy "most recent in-flight inbound" baseline measured on the same windows.
import test from 'ava';
import { assignGreedy, assignProvisional, learnCallModel } from '../../analysis/linking/index.ts';
import { scoreLinks, syntheticWindow } from '../../analysis/linking/synthetic.ts';

const model = learnCallModel(syntheticWindow({ concurrency: 1, requests: 300, seed: 1, linked: true }).spans);
const REQUESTS = 150;

const run = (concurrency: number, seed: number, threshold: number) => {
  const w = syntheticWindow({ concurrency, requests: REQUESTS, seed });
  const a = assignProvisional(w.spans, model, { threshold });
  return { w, a, global: scoreLinks(w.truth, a.links), greedy: scoreLinks(w.truth, assignGreedy(w.spans)) };
};

test('concurrency 1: every edge linked and correct, with the confidence threshold on', (t) => {
  const { a, global, greedy } = run(1, 11, 0.9);
  t.deepEqual(a.errors, []);
  t.true(global.edges > 300);
  t.is(global.correct, global.edges);
  t.is(global.wrong, 0);
  t.is(greedy.correct, greedy.edges, 'with one request in flight greedy is exact too');
});

test('concurrency 4: global assignment is right on ≥ 90 % of edges and beats greedy', (t) => {
  const { global, greedy } = run(4, 14, 0);
  t.log(`global ${global.correct}/${global.edges}, greedy ${greedy.correct}/${greedy.edges}`);
  t.true(global.correct / global.edges >= 0.9);
  t.true(global.correct > greedy.correct);
});

for (const seed of [18, 28]) {
  test(`concurrency 8 (seed ${seed}): global beats greedy; threshold keeps wrong links ≤ 2 % of linked`, (t) => {
    const all = run(8, seed, 0);
    const kept = run(8, seed, 0.9);
    const linked = kept.global.correct + kept.global.wrong;
    t.log(
      `no threshold: ${all.global.correct}/${all.global.edges} correct; greedy ${all.greedy.correct}; ` +
        `threshold 0.9: ${kept.global.correct} correct, ${kept.global.wrong} wrong, ${kept.global.unlinked} unlinked`,
    );
    t.true(all.global.correct / all.global.edges >= 0.85, 'global edge accuracy at concurrency 8');
    t.true(all.global.correct >= all.greedy.correct + 0.3 * all.global.edges, 'global ≫ greedy');
    t.true(kept.global.wrong / linked <= 0.02, `wrong share ${kept.global.wrong}/${linked}`);
    t.true(linked / kept.global.edges >= 0.75, 'the threshold still links most edges');
    t.is(kept.a.links.length + kept.a.unlinked.length, kept.global.edges, 'every call is accounted for');
    t.true(kept.a.unlinked.every((u) => u.reason !== 'below-threshold' || (u.best?.confidence ?? 1) < 0.9));
  });
}

test('concurrency 32: still far ahead of greedy, and the threshold bounds wrong links', (t) => {
  const all = run(32, 32, 0);
  const kept = run(32, 32, 0.9);
  const linked = kept.global.correct + kept.global.wrong;
  t.log(
    `global ${all.global.correct}/${all.global.edges}, greedy ${all.greedy.correct}; ` +
      `threshold 0.9: wrong ${kept.global.wrong}/${linked} linked`,
  );
  t.true(all.global.correct > 2 * all.greedy.correct);
  t.true(kept.global.wrong / linked <= 0.05);
});
