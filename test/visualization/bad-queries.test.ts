// Bad queries get a 4xx JSON error in Jaeger's envelope naming what is wrong (and, for a query
// parameter, which one): a named table, the name is the assertion message.
import test from 'ava';
import { type Served, serveWorkload } from './served-workload.ts';

let served: Served;
test.before(async () => {
  served = await serveWorkload(20, 3);
});
test.after.always(async () => {
  await served?.close();
});

const CASES: Array<{ name: string; path: string; status: number; parameter?: string; msg: RegExp }> = [
  { name: 'unknown trace id', path: `/api/traces/${'f'.repeat(32)}`, status: 404, msg: /trace not found/ },
  { name: 'trace id not hex', path: '/api/traces/not-a-trace', status: 400, parameter: 'traceID', msg: /hex/ },
  { name: 'trace id too long', path: `/api/traces/${'a'.repeat(33)}`, status: 400, parameter: 'traceID', msg: /1–32/ },
  { name: 'traceID query not hex', path: '/api/traces?traceID=xyz', status: 400, parameter: 'traceID', msg: /hex/ },
  {
    name: 'start after end',
    path: '/api/traces?start=2000&end=1000',
    status: 400,
    parameter: 'start',
    msg: /after end/,
  },
  { name: 'start not a number', path: '/api/traces?start=yesterday', status: 400, parameter: 'start', msg: /µs/ },
  { name: 'end negative', path: '/api/traces?end=-5', status: 400, parameter: 'end', msg: /non-negative/ },
  { name: 'huge limit', path: '/api/traces?limit=100000', status: 400, parameter: 'limit', msg: /at most 1000/ },
  { name: 'limit not a number', path: '/api/traces?limit=ten', status: 400, parameter: 'limit', msg: /integer/ },
  {
    name: 'bad minDuration',
    path: '/api/traces?minDuration=fast',
    status: 400,
    parameter: 'minDuration',
    msg: /Go syntax/,
  },
  {
    name: 'unitless maxDuration',
    path: '/api/traces?maxDuration=100',
    status: 400,
    parameter: 'maxDuration',
    msg: /duration/,
  },
  {
    name: 'minDuration above maxDuration',
    path: '/api/traces?minDuration=2s&maxDuration=1s',
    status: 400,
    parameter: 'minDuration',
    msg: /above maxDuration/,
  },
  { name: 'bad lookback', path: '/api/traces?lookback=lots', status: 400, parameter: 'lookback', msg: /duration/ },
  { name: 'tags not JSON', path: '/api/traces?tags={oops', status: 400, parameter: 'tags', msg: /JSON object/ },
  { name: 'tags an array', path: '/api/traces?tags=[1,2]', status: 400, parameter: 'tags', msg: /JSON object/ },
  { name: 'tag without colon', path: '/api/traces?tag=error', status: 400, parameter: 'tag', msg: /key:value/ },
  {
    name: 'operation without service',
    path: '/api/traces?operation=x',
    status: 400,
    parameter: 'operation',
    msg: /service/,
  },
  { name: 'operations without service', path: '/api/operations', status: 400, parameter: 'service', msg: /required/ },
  {
    name: 'unknown spanKind',
    path: '/api/operations?service=a&spanKind=sideways',
    status: 400,
    parameter: 'spanKind',
    msg: /server/,
  },
  {
    name: 'dependencies endTs not ms',
    path: '/api/dependencies?endTs=now',
    status: 400,
    parameter: 'endTs',
    msg: /ms/,
  },
  {
    name: 'dependencies zero lookback',
    path: '/api/dependencies?lookback=0',
    status: 400,
    parameter: 'lookback',
    msg: /above 0/,
  },
  {
    name: 'critical path of unknown trace',
    path: `/api/meshtrace/critical-path/${'e'.repeat(32)}`,
    status: 404,
    msg: /trace not found/,
  },
  {
    name: 'analysis window reversed',
    path: '/api/meshtrace/latency?start=9&end=3',
    status: 400,
    parameter: 'start',
    msg: /empty/,
  },
  {
    name: 'analysis limitSpans too large',
    path: '/api/meshtrace/bottlenecks?limitSpans=99999999',
    status: 400,
    parameter: 'limitSpans',
    msg: /out of range/,
  },
  {
    name: 'regressions with only fromVersion',
    path: '/api/meshtrace/regressions?fromVersion=1.0',
    status: 400,
    parameter: 'toVersion',
    msg: /together/,
  },
  { name: 'unknown endpoint', path: '/api/nothing-here', status: 404, msg: /no such endpoint/ },
];

for (const c of CASES) {
  test(`bad query: ${c.name}`, async (t) => {
    const { status, body } = await served.get(c.path);
    t.is(status, c.status, c.name);
    t.is(body.data, null, c.name);
    t.is(body.errors?.length, 1, c.name);
    const e = body.errors![0]!;
    t.is(e.code, c.status, c.name);
    t.regex(e.msg, c.msg, c.name);
    if (c.parameter) {
      t.is(e.parameter, c.parameter, c.name);
      t.true(e.msg.startsWith(c.parameter) || e.msg.includes(c.parameter), `${c.name}: message names ${c.parameter}`);
    }
  });
}

test('non-GET methods are refused with 405 and Allow', async (t) => {
  const res = await fetch(`${served.server.url}/api/services`, { method: 'POST', body: '{}' });
  t.is(res.status, 405);
  t.is(res.headers.get('allow'), 'GET, HEAD');
  const body = (await res.json()) as { errors: Array<{ msg: string }> };
  t.regex(body.errors[0]!.msg, /only GET/);
});
