import test from 'ava';
import { bottlenecks } from '../../analysis/analyses/bottlenecks.ts';
import { criticalPath } from '../../analysis/analyses/critical-path.ts';
import type { Span } from '../../analysis/model.ts';
import { criticalPathCases } from './fixtures/critical-path-cases.ts';
import { describeSections, spansFromTimeline } from './fixtures/timeline-drawing.ts';

for (const c of criticalPathCases) {
  test(`critical path: ${c.name}`, (t) => {
    const r = criticalPath(spansFromTimeline(c.drawing));
    if (!r.ok) return t.fail(r.reason);
    t.is(describeSections(r.value.sections, r.value.startUs), c.expected, c.name);
    // Sections tile the root's window exactly: contiguous, no overlap, no gap.
    let at = r.value.startUs;
    for (const s of r.value.sections) {
      t.is(s.startUs, at, `${c.name}: section ${s.name} starts where the previous ended`);
      at = s.endUs;
    }
    t.is(at, r.value.endUs, `${c.name}: path ends at the root's end`);
  });
}

test('critical path reports the async children it left off and the skew it corrected', (t) => {
  const asyncCase = criticalPathCases.find((c) => c.name.startsWith('async child outliving'))!;
  const r1 = criticalPath(spansFromTimeline(asyncCase.drawing));
  t.true(r1.ok && r1.value.asyncSpanIds.length === 1);
  const skewCase = criticalPathCases.find((c) => c.name.includes('running ahead'))!;
  const r2 = criticalPath(spansFromTimeline(skewCase.drawing));
  if (!r2.ok) return t.fail(r2.reason);
  t.deepEqual(
    r2.value.skewAdjustments.map((a) => [a.host, a.deltaUs]),
    [['b', -6000]],
  );
});

test('critical path copies its input: the caller’s spans are unchanged, even after skew correction and clamping', (t) => {
  for (const c of criticalPathCases) {
    const spans = spansFromTimeline(c.drawing);
    const before = structuredClone(spans);
    const r = criticalPath(spans);
    t.true(r.ok, c.name);
    t.deepEqual(spans, before, c.name);
  }
});

function chain(depth: number): Span[] {
  const spans = spansFromTimeline('root  |==|');
  const root = spans[0]!;
  root.endUs = 2 * depth + 10;
  for (let i = 1; i < depth; i++) {
    spans.push({
      ...root,
      spanId: i.toString(16).padStart(16, '0').replace(/^0/, 'a'),
      parentSpanId: spans[i - 1]!.spanId,
      name: `s${i}`,
      startUs: i,
      endUs: 2 * depth + 10 - i,
    });
  }
  return spans;
}

test('critical path walks a 10,000-deep chain without overflowing the stack', (t) => {
  const r = criticalPath(chain(10_000));
  if (!r.ok) return t.fail(r.reason);
  t.is(r.value.sections.length, 2 * 10_000 - 1);
  t.is(r.value.sections[0]!.name, 'root');
});

const badTraces: Array<{ name: string; spans: () => Span[]; reason: RegExp }> = [
  { name: 'no spans', spans: () => [], reason: /no spans/ },
  {
    name: 'every span has a parent (cycle)',
    spans: () => {
      const s = spansFromTimeline('a  |==|\n  b  |=|');
      s[0]!.parentSpanId = s[1]!.spanId;
      return s;
    },
    reason: /no root/,
  },
  {
    name: 'end before start',
    spans: () => {
      const s = spansFromTimeline('a  |==|');
      s[0]!.endUs = s[0]!.startUs - 1;
      return s;
    },
    reason: /ends before it starts/,
  },
  {
    name: 'duplicate span id',
    spans: () => {
      const s = spansFromTimeline('a  |==|\n  b  |=|');
      s[1]!.spanId = s[0]!.spanId;
      return s;
    },
    reason: /appears twice/,
  },
];

for (const bad of badTraces) {
  test(`critical path of a bad trace gives a reason: ${bad.name}`, (t) => {
    const r = criticalPath(bad.spans());
    t.false(r.ok, bad.name);
    if (!r.ok) t.regex(r.reason, bad.reason, bad.name);
  });
}

test('bottleneck ranking aggregates critical-path share and keeps going past a bad trace', (t) => {
  const slow = spansFromTimeline(
    `
root                |====================|
  fast                |==|
  slow                    |============|
`,
    '11111111111111111111111111111111',
  );
  const other = spansFromTimeline(
    `
root                |==========|
  slow                |======|
`,
    '22222222222222222222222222222222',
  );
  const broken = spansFromTimeline('x  |==|', '33333333333333333333333333333333');
  broken[0]!.endUs = -5;
  const r = bottlenecks([...slow, ...broken, ...other]);
  t.deepEqual(
    r.errors.map((e) => e.traceId),
    ['33333333333333333333333333333333'],
  );
  t.is(r.value[0]!.operation, 'slow');
  t.is(r.value[0]!.traces, 2);
  // slow: 13 ms of 21 + 7 ms of 11 → 20/32
  t.is(r.value[0]!.share, 20 / 32);
  const total = r.value.reduce((a, b) => a + b.share, 0);
  t.true(Math.abs(total - 1) < 1e-12, 'shares add up to 1');
});
