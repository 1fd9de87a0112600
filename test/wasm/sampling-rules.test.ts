// The AS `path_regex` subset engine against ECMAScript RegExp (the TS core's engine) on the same
// patterns and paths; patterns outside the subset are refused with a reason. And the AS
// `sampling` config reader against core/sampling/schema.ts: the same bad inputs are refused
// with the same `sampling.<field>: <what>` message (the AS reader reports the first problem).
import test from 'ava';
import { type ConfigError, parseSamplingConfig } from '../../core/sampling/index.ts';
import { OP, probeCall } from './sampling-probe.ts';

const PATHS = [
  '',
  '/',
  '/users/17/orders',
  '/users/x/orders',
  '/users/17/orders/9',
  '/api/v2/items.json',
  '/API/V2',
  '/a b/c\td',
  '/healthz',
  '/health',
  '/ready?x=1',
  '/ünï/cödé',
  '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaab',
  '/x.y-z_w~',
];

const SUPPORTED = [
  '^/users/\\d+/orders$',
  '/users/\\d+',
  '^/api/v[0-9]+/',
  '\\.json$',
  'heal[th]+z?',
  '[^a-z/]',
  '^/$',
  '^$',
  'a{3}',
  'a{2,4}b',
  'a{30,}b',
  '\\s',
  '\\S+\\s\\S',
  '\\w+\\W\\w',
  '\\D\\d',
  '^/.*$',
  '.',
  '[\\d.]+json',
  '[-a]',
  '[a-]x',
  'ü',
  '/x\\.y\\-z_w\\~',
  'API',
];

for (const pattern of SUPPORTED) {
  test(`regex ${pattern} matches like RegExp`, (t) => {
    const got = probeCall(OP.regex, { pattern, inputs: PATHS });
    t.is(got['error'], undefined, String(got['error']));
    const re = new RegExp(pattern);
    t.deepEqual(
      got['results'],
      PATHS.map((p) => re.test(p)),
      pattern,
    );
  });
}

const UNSUPPORTED: Array<[string, string]> = [
  ['(a|b)', 'unsupported construct "("'],
  ['a|b', 'unsupported construct "|"'],
  ['a+?', 'unsupported quantifier'],
  ['a**', 'unsupported quantifier'],
  ['*a', 'nothing to repeat'],
  ['[a-', 'unterminated character class'],
  ['[z-a]', 'range out of order'],
  ['a{2,1}', 'numbers out of order'],
  ['\\bword', 'unsupported escape'],
  ['a$b', 'unsupported construct "$"'],
];

for (const [pattern, why] of UNSUPPORTED) {
  test(`regex ${pattern} is refused: ${why}`, (t) => {
    const got = probeCall(OP.regex, { pattern, inputs: [] });
    t.true(String(got['error']).includes(why), String(got['error']));
  });
}

const BAD_CONFIGS: Array<[string, unknown]> = [
  ['probability above 1', { probability: 1.5 }],
  ['negative probability', { probability: -0.1 }],
  ['probability as text', { probability: '0.5' }],
  ['precision 15', { precision: 15 }],
  ['unknown field', { tail: {} }],
  ['unknown error field', { error: { status: 500 } }],
  ['http_status_min below 400', { error: { http_status_min: 200 } }],
  ['negative latency', { latency: { threshold_ms: -1 } }],
  ['route without threshold', { latency: { routes: [{ path_prefix: '/a' }] } }],
  ['route prefix without slash', { latency: { routes: [{ path_prefix: 'a', threshold_ms: 1 }] } }],
  ['rule action unknown', { rules: [{ action: 'sometimes' }] }],
  ['rule without action', { rules: [{ rate: 0.5 }] }],
  ['rate rule without rate', { rules: [{ action: 'rate' }] }],
  ['rule rate above 1', { rules: [{ action: 'rate', rate: 2 }] }],
  ['rule match unknown field', { rules: [{ action: 'always', match: { host: 'x' } }] }],
  ['cost cap per_second 0', { cost_cap: { per_second: 0 } }],
  ['cost cap without per_second', { cost_cap: { burst: 2 } }],
  ['cost cap per unknown', { cost_cap: { per_second: 1, per: 'user' } }],
  ['trust boundary unknown', { trust: { boundary: 'dmz' } }],
  ['inbound context unknown', { trust: { inbound_context: 'drop' } }],
  ['debug token without keys', { trust: { debug_token: {} } }],
  ['debug token secret too short', { trust: { debug_token: { keys: [{ id: 'k', secret: 'short' }] } } }],
  [
    'debug token ttl too long',
    { trust: { debug_token: { keys: [{ id: 'k', secret: 'x'.repeat(16) }], max_ttl_s: 604801 } } },
  ],
  ['debug operation without method', { debug: { operations: ['/admin'] } }],
  ['debug header not a header name', { debug: { header: 'x debug' } }],
];

for (const [name, config] of BAD_CONFIGS) {
  test(`bad sampling config, same message as the TS core: ${name}`, (t) => {
    let problems: string[] = [];
    try {
      parseSamplingConfig(config);
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    t.true(problems.length > 0, 'the TS core refuses it');
    const got = String(probeCall(OP.config, { config })['error']);
    // Same field; the wording of the first problem matches the TS core's.
    t.true(problems.includes(got), `AS: ${got}\nTS: ${problems.join(' | ')}`);
  });
}

test('a good config is accepted by both', (t) => {
  const config = {
    probability: 0.2,
    rules: [{ name: 'w', match: { method: 'post', path_regex: '^/a', headers: { 'X-T': 'v' } }, action: 'always' }],
    trust: { boundary: 'internal', debug_token: { keys: [{ id: 'k1', secret: 'x'.repeat(16) }] } },
  };
  t.notThrows(() => parseSamplingConfig(config));
  t.is(probeCall(OP.config, { config })['error'], '');
});
