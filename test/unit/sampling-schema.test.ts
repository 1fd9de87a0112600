// The `sampling` config section: defaults, normalisation, and errors that name the field.
import test from 'ava';
import { ConfigError, parseSamplingConfig } from '../../core/sampling/index.ts';

test('an empty section gives documented defaults', (t) => {
  const c = parseSamplingConfig(undefined);
  t.is(c.probability, 1);
  t.is(c.precision, 4);
  t.deepEqual(c.error, { enabled: true, httpStatusMin: 500, grpc: true, reset: true });
  t.is(c.latency.thresholdMs, null);
  t.is(c.debug.header, 'x-meshtrace-debug');
  t.is(c.costCap, null);
  t.is(c.trust.boundary, 'edge');
  t.is(c.trust.inboundContext, 'parent');
  t.is(c.trust.tokenHeader, null);
});

const bad: Array<[string, unknown, string]> = [
  [
    'rate above 1',
    { rules: [{ action: 'always' }, { action: 'never' }, { action: 'rate', rate: 1.5 }] },
    'sampling.rules[2].rate: must be ≤ 1',
  ],
  ['rate missing', { rules: [{ action: 'rate' }] }, 'sampling.rules[0].rate: is required'],
  [
    'unknown strategy',
    { rules: [{ action: 'sometimes' }] },
    'sampling.rules[0].action: must be one of always, never, rate',
  ],
  ['unknown field', { probabilty: 0.5 }, 'sampling.probabilty: unknown field'],
  ['probability negative', { probability: -0.1 }, 'sampling.probability: must be ≥ 0'],
  ['probability a string', { probability: 'half' }, 'sampling.probability: must be number'],
  [
    'bad regex',
    { rules: [{ action: 'always', match: { path_regex: '([a-z' } }] },
    'sampling.rules[0].match.path_regex: invalid regular expression',
  ],
  [
    'path prefix without slash',
    { latency: { routes: [{ path_prefix: 'api', threshold_ms: 5 }] } },
    'sampling.latency.routes[0].path_prefix: must match pattern',
  ],
  ['cost cap zero', { cost_cap: { per_second: 0 } }, 'sampling.cost_cap.per_second: must be > 0'],
  [
    'short secret',
    { trust: { debug_token: { keys: [{ id: 'k', secret: 'short' }] } } },
    'sampling.trust.debug_token.keys[0].secret: must NOT have fewer than 16 characters',
  ],
  [
    'duplicate key id',
    {
      trust: {
        debug_token: {
          keys: [
            { id: 'k', secret: 'x'.repeat(16) },
            { id: 'k', secret: 'y'.repeat(16) },
          ],
        },
      },
    },
    'sampling.trust.debug_token.keys[1].id: duplicate key id "k"',
  ],
  ['boundary typo', { trust: { boundary: 'outside' } }, 'sampling.trust.boundary: must be one of edge, internal'],
];

for (const [name, input, message] of bad) {
  test(`refused: ${name}`, (t) => {
    const err = t.throws(() => parseSamplingConfig(input), { instanceOf: ConfigError });
    t.true(err.message.includes(message), `${name}: got "${err.message}"`);
  });
}

test('every problem is listed, under the caller-given base path', (t) => {
  const err = t.throws(() => parseSamplingConfig({ probability: 2, precision: 0 }, 'plugins.meshtrace.sampling'), {
    instanceOf: ConfigError,
  });
  t.deepEqual(err.problems, [
    'plugins.meshtrace.sampling.probability: must be ≤ 1',
    'plugins.meshtrace.sampling.precision: must be ≥ 1',
  ]);
});

test('rules and debug are normalised (methods upper-cased, header names lower-cased)', (t) => {
  const c = parseSamplingConfig({
    rules: [{ match: { method: 'get', headers: { 'X-Tenant': 'a' }, authority: 'API.example' }, action: 'always' }],
    debug: { user_header: 'X-User', operations: ['* /admin'] },
  });
  t.deepEqual(c.rules[0]?.match.methods, ['GET']);
  t.deepEqual(c.rules[0]?.match.headers, [['x-tenant', 'a']]);
  t.is(c.rules[0]?.match.authority, 'api.example');
  t.is(c.rules[0]?.name, 'rules[0]');
  t.is(c.debug.userHeader, 'x-user');
  t.deepEqual(c.debug.operations, [{ method: '*', pathPrefix: '/admin' }]);
});
