// Unit tables for the query-parameter parsers (pure functions): Go duration syntax as Jaeger
// accepts it, time ranges with lookback, tag forms, trace id padding.
import test from 'ava';
import {
  parseDurationUs,
  QueryError,
  tagsParam,
  timeRangeParams,
  traceIdParam,
} from '../../visualization/jaeger/query-params.ts';

const DURATIONS: Array<[string, number | null]> = [
  ['0', 0],
  ['1s', 1e6],
  ['1.5s', 1.5e6],
  ['500ms', 500_000],
  ['250us', 250],
  ['250µs', 250],
  ['1500ns', 1.5],
  ['1h30m', 5_400e6],
  ['2d', 172_800e6],
  ['1w', 604_800e6],
  ['.5s', 500_000],
  ['100', null],
  ['ms', null],
  ['1x', null],
  ['1s 2s', null],
  ['-1s', null],
  ['', null],
];
for (const [text, us] of DURATIONS) {
  test(`duration "${text}" → ${us}`, (t) => {
    t.is(parseDurationUs(text), us, text);
  });
}

test('lookback sets start = end − lookback; "custom" leaves start/end alone', (t) => {
  const now = 10_000_000_000;
  t.deepEqual(timeRangeParams(new URLSearchParams('lookback=1h'), now), { startUs: now - 3_600e6, endUs: now });
  t.deepEqual(timeRangeParams(new URLSearchParams('end=5000000000&lookback=1s'), now), {
    startUs: 4_999_000_000,
    endUs: 5_000_000_000,
  });
  t.deepEqual(timeRangeParams(new URLSearchParams('start=1&end=2&lookback=custom'), now), { startUs: 1, endUs: 2 });
  t.deepEqual(timeRangeParams(new URLSearchParams(''), now), { startUs: undefined, endUs: undefined });
  const e = t.throws(() => timeRangeParams(new URLSearchParams('start=3&end=2'), now), { instanceOf: QueryError });
  t.is(e?.parameter, 'start');
});

test('tags: JSON object and tag=key:value merge; values become text', (t) => {
  t.deepEqual(tagsParam(new URLSearchParams({ tags: '{"a":1,"b":true}', tag: 'c:x:y' })), {
    a: '1',
    b: 'true',
    c: 'x:y',
  });
  t.is(tagsParam(new URLSearchParams('')), undefined);
  t.throws(() => tagsParam(new URLSearchParams({ tags: '{"a":{"nested":1}}' })), { message: /value of "a"/ });
});

test('trace ids: 1–32 hex digits, lower-cased and left-padded to 32', (t) => {
  t.is(traceIdParam('ABC'), `${'0'.repeat(29)}abc`);
  t.is(traceIdParam('f'.repeat(32)), 'f'.repeat(32));
  t.throws(() => traceIdParam(''), { instanceOf: QueryError });
  t.throws(() => traceIdParam('g1'), { message: /traceID: "g1" is not a trace id/ });
});
