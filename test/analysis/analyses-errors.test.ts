import test from 'ava';
import { errorOrigin, errorOrigins } from '../../analysis/analyses/error-origin.ts';
import { errorPatterns } from '../../analysis/analyses/error-patterns.ts';
import { errorRates } from '../../analysis/analyses/error-rates.ts';
import { errorTemplate } from '../../analysis/analyses/error-template.ts';
import { recoveryTimes } from '../../analysis/analyses/recovery-times.ts';
import { spanFailed } from '../../analysis/analyses/span-failed.ts';
import type { Span } from '../../analysis/model.ts';
import { spansFromTimeline } from './fixtures/timeline-drawing.ts';

/** Marks the named spans failed (with a message) in a drawn trace. */
function failing(drawing: string, failed: Record<string, string>, traceId?: string): Span[] {
  return spansFromTimeline(drawing, traceId).map((s) =>
    s.name in failed ? { ...s, status: 'error', statusMessage: failed[s.name]! } : s,
  );
}

// The drawing from error-origin.ts's doc comment.
const outage = `
root                |===================================|
  cache             |==|
  checkout               |=========================|
    payments                |==================|
      bank@b:server            |=========|
`;

test('error origin: the deepest failure under the failing chain, not the handled one beside it', (t) => {
  const spans = failing(outage, {
    root: 'upstream failed',
    cache: 'cache miss key=17',
    checkout: 'upstream',
    payments: 'upstream',
    bank: 'declined',
  });
  const r = errorOrigin(spans);
  if (!r.ok) return t.fail(r.reason);
  t.is(r.value.origin?.name, 'bank');
  t.deepEqual(
    r.value.propagationPath.map((p) => p.name),
    ['bank', 'payments', 'checkout', 'root'],
  );
  t.deepEqual(r.value.allOrigins.map((o) => o.name).sort(), ['bank', 'cache']);
  t.is(r.value.message, 'declined');
});

test('error origin: among failing siblings the one that ended last explains the parent', (t) => {
  const r = errorOrigin(
    failing(
      `
root                |====================|
  a                   |====|
  b                          |=======|
`,
      { root: 'x', a: 'early', b: 'late' },
    ),
  );
  t.true(r.ok && r.value.origin?.name === 'b');
});

test('error origin: a failure the root absorbed gives no primary origin but is listed', (t) => {
  const r = errorOrigin(failing(outage, { bank: 'declined', payments: 'declined' }));
  if (!r.ok) return t.fail(r.reason);
  t.false(r.value.rootFailed);
  t.is(r.value.origin, null);
  t.deepEqual(r.value.propagationPath, []);
  t.deepEqual(
    r.value.allOrigins.map((o) => o.name),
    ['bank'],
  );
});

test('error origin: a failing root with no failing child is its own origin', (t) => {
  const r = errorOrigin(failing(outage, { root: 'bad request' }));
  t.true(r.ok && r.value.origin?.name === 'root' && r.value.propagationPath.length === 1);
});

test('error origins over many traces keep going past a bad trace and skip healthy ones', (t) => {
  const good = failing(outage, { root: 'x', checkout: 'x', payments: 'x', bank: 'y' }, '1'.repeat(32));
  const healthy = spansFromTimeline(outage, '2'.repeat(32));
  const broken = failing(outage, { root: 'x' }, '3'.repeat(32)).map((s) => ({
    ...s,
    parentSpanId: s.spanId === '0000000000000001' ? '0000000000000002' : s.parentSpanId,
  }));
  const r = errorOrigins([...good, ...healthy, ...broken]);
  t.deepEqual(
    r.value.map((o) => [o.traceId, o.origin?.name]),
    [['1'.repeat(32), 'bank']],
  );
  t.deepEqual(
    r.errors.map((e) => e.traceId),
    ['3'.repeat(32)],
  );
  t.regex(r.errors[0]!.reason, /no root/);
});

const failedCases: Array<{ name: string; s: Partial<Span>; failed: boolean }> = [
  { name: 'status error', s: { status: 'error' }, failed: true },
  {
    name: 'status ok overrides a 500',
    s: { status: 'ok', attributes: { 'http.response.status_code': 500 } },
    failed: false,
  },
  { name: 'server span with 503', s: { attributes: { 'http.response.status_code': 503 } }, failed: true },
  { name: 'server span with old-convention 500', s: { attributes: { 'http.status_code': 500 } }, failed: true },
  { name: 'server span with 404', s: { attributes: { 'http.response.status_code': 404 } }, failed: false },
  {
    name: 'client span with 503 and unset status',
    s: { kind: 'client', attributes: { 'http.response.status_code': 503 } },
    failed: false,
  },
];
for (const c of failedCases) {
  test(`span failed? ${c.name}`, (t) => {
    const base = spansFromTimeline('a  |==|')[0]!;
    t.is(spanFailed({ ...base, kind: 'server', ...c.s }), c.failed, c.name);
  });
}

const templates: Array<[string, string]> = [
  [
    'authorization declined for card ending 4242 (txn 3f2a1b4c-1d2e-4f3a-a1b2-0123456789ab)',
    'authorization declined for card ending <num> (txn <uuid>)',
  ],
  ['upstream timeout after 3012 ms calling 10.0.3.4:8443', 'upstream timeout after <num> ms calling <ip>'],
  [
    'ledger write failed at /var/lib/bank/ledger/9fa03b2c.db: disk quota exceeded',
    'ledger write failed at <path>: disk quota exceeded',
  ],
  ['cache miss for key session:12345', 'cache miss for key session:<num>'],
  ['stale entry 0x1a2b3c4d5e6f evicted for user ann@example.com', 'stale entry <hex> evicted for user <email>'],
  ['order 12 failed: id=deadbeef1234 retry#3', 'order <num> failed: id=<hex> retry#<num>'],
  ['GET https://api.example.com/v1/users/42 returned 503', 'GET <url> returned <num>'],
  ['C:\\Users\\ann\\file.txt missing', '<path> missing'],
  ['span abcdef0123456789 lost', 'span <hex> lost'],
  ['value 3.14 too big; expected < 1e6', 'value <num> too big; expected < <num>'],
  [
    'TypeError: x is undefined\n    at foo (/app/src/a.js:10:5)\n    at bar (/app/b.js:1:1)',
    'TypeError: x is undefined at foo (<path>)',
  ],
];
for (const [message, template] of templates) {
  test(`error template: ${JSON.stringify(message).slice(0, 60)}`, (t) => {
    t.is(errorTemplate(message), template, message);
  });
}

test('error template input and output are bounded', (t) => {
  const huge = `failure ${'x'.repeat(100_000)}`;
  t.true(errorTemplate(huge).length <= 301);
});

test('error patterns count occurrences and traces per origin span, with an example', (t) => {
  const spans = [
    ...failing(
      outage,
      { root: 'wrapper', checkout: 'wrapper', payments: 'wrapper', bank: 'declined txn 1111' },
      'a'.repeat(32),
    ),
    ...failing(
      outage,
      { root: 'wrapper', checkout: 'wrapper', payments: 'wrapper', bank: 'declined txn 2222' },
      'b'.repeat(32),
    ),
    ...failing(outage, { cache: 'miss key=9' }, 'c'.repeat(32)),
  ];
  const { patterns, dropped } = errorPatterns(spans);
  t.is(dropped, 0);
  t.deepEqual(
    patterns.map((p) => [p.service, p.operation, p.template, p.count, p.traces]),
    [
      ['svc-b', 'bank', 'declined txn <num>', 2, 2],
      ['svc-h1', 'cache', 'miss key=<num>', 1, 1],
    ],
  );
  t.is(patterns[0]!.example, 'declined txn 1111');
});

test('error rates count entry spans per service and who originated the failures', (t) => {
  const spans = [
    ...failing(outage, { root: 'w', checkout: 'w', payments: 'w', bank: 'declined' }, 'a'.repeat(32)),
    ...spansFromTimeline(outage, 'b'.repeat(32)),
  ];
  const rates = new Map(errorRates(spans).map((r) => [r.service, r]));
  t.deepEqual(rates.get('svc-b'), { service: 'svc-b', requests: 2, errors: 1, rate: 0.5, originated: 1 });
  // svc-h1's entry spans are the roots only (children are internal): 1 of 2 failed, passed on from bank.
  t.deepEqual(rates.get('svc-h1'), { service: 'svc-h1', requests: 2, errors: 1, rate: 0.5, originated: 0 });
});

test('recovery time: one episode from the first breaching window to the first healthy one', (t) => {
  const spans: Span[] = [];
  const base = spansFromTimeline('a  |==|')[0]!;
  // 10 windows of 1 s, 10 requests each; windows 3–5 have 40 % errors; window 7 has too few requests.
  let n = 0;
  for (let w = 0; w < 10; w++) {
    const count = w === 7 ? 2 : 10;
    for (let i = 0; i < count; i++) {
      n++;
      const fail = (w >= 3 && w <= 5 && i < 4) || w === 7;
      spans.push({
        ...base,
        traceId: n.toString(16).padStart(32, '0'),
        spanId: n.toString(16).padStart(16, '0'),
        kind: 'server',
        service: 'api',
        startUs: w * 1e6 + i * 1000,
        endUs: w * 1e6 + i * 1000 + 500,
        status: fail ? 'error' : 'unset',
      });
    }
  }
  const [api] = recoveryTimes(spans, { windowUs: 1e6, threshold: 0.1, minRequests: 5 });
  t.deepEqual(api!.episodes, [{ startUs: 3e6, endUs: 6e6, durationUs: 3e6, peakRate: 0.4 }]);
  t.is(api!.meanRecoveryUs, 3e6);
  // Still breaching at the end: the episode stays open.
  const open = recoveryTimes(
    spans.filter((s) => s.startUs < 6e6),
    { windowUs: 1e6 },
  );
  t.deepEqual(open[0]!.episodes[0], { startUs: 3e6, endUs: null, durationUs: null, peakRate: 0.4 });
  t.is(open[0]!.meanRecoveryUs, null);
});
