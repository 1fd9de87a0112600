// Enrichers as pure functions: redaction, GraphQL naming, the header allow-list, the secret
// guard and JWT verification (HS256 secret from the environment).
import test from 'ava';
import { SignJWT } from 'jose';
import { normaliseConfig } from '../../ext-authz/config.ts';
import { clientAddress } from '../../ext-authz/enrich/envoy-attributes.ts';
import { graphqlAttributes } from '../../ext-authz/enrich/graphql.ts';
import { Enricher } from '../../ext-authz/enrich/index.ts';
import { JwtEnricher } from '../../ext-authz/enrich/jwt.ts';
import { headerAttributes } from '../../ext-authz/enrich/request-headers.ts';
import { dropSecrets, secretsOf } from '../../ext-authz/enrich/secret-guard.ts';
import { truncate } from '../../ext-authz/enrich/types.ts';
import { urlAttributes } from '../../ext-authz/enrich/url.ts';
import type { Headers } from '../../ext-authz/headers.ts';
import { Metrics } from '../../ext-authz/metrics.ts';

const REDACT = ['token', 'access_token', 'api_key'];
const h = (o: Record<string, string | string[]>): Headers =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

const urls: { name: string; target: string; path: string; query?: string; removed: string[] }[] = [
  { name: 'no query', target: '/a/b', path: '/a/b', removed: [] },
  {
    name: 'listed param redacted, others kept',
    target: '/x?token=s3cret&page=2',
    path: '/x',
    query: 'token=REDACTED&page=2',
    removed: ['s3cret'],
  },
  {
    name: 'name matched case-insensitively',
    target: '/x?Access_Token=abc',
    path: '/x',
    query: 'Access_Token=REDACTED',
    removed: ['abc'],
  },
  {
    name: 'percent-encoded name',
    target: '/x?api%5Fkey=k%2B1',
    path: '/x',
    query: 'api%5Fkey=REDACTED',
    removed: ['k%2B1', 'k+1'],
  },
  {
    name: 'repeated param',
    target: '/x?token=a1&token=b2',
    path: '/x',
    query: 'token=REDACTED&token=REDACTED',
    removed: ['a1', 'b2'],
  },
  { name: 'fragment dropped', target: '/x?q=1#frag', path: '/x', query: 'q=1', removed: [] },
  { name: 'param without value', target: '/x?token&y=1', path: '/x', query: 'token&y=1', removed: [] },
  {
    name: 'malformed escape does not throw',
    target: '/x?%E0%A4%A=1&token=z',
    path: '/x',
    query: '%E0%A4%A=1&token=REDACTED',
    removed: ['z'],
  },
];
for (const c of urls) {
  test(`url: ${c.name}`, (t) => {
    const r = urlAttributes(c.target, REDACT, 2048);
    t.is(r.path, c.path, c.name);
    t.is(r.attrs['url.query'], c.query, c.name);
    t.deepEqual(r.removed, c.removed, c.name);
  });
}

const gql: { name: string; body: unknown; name_?: string; type?: string }[] = [
  { name: 'named query', body: { query: 'query GetUser { me { id } }' }, name_: 'GetUser', type: 'query' },
  {
    name: 'operationName wins',
    body: { query: 'query A { x } mutation B { y }', operationName: 'B' },
    name_: 'B',
    type: 'query',
  },
  { name: 'mutation', body: { query: 'mutation AddItem($v: Int) { add(v: $v) }' }, name_: 'AddItem', type: 'mutation' },
  { name: 'anonymous shorthand', body: { query: '{ me { id } }' }, type: 'query' },
  {
    name: 'leading comment',
    body: { query: '# list\nsubscription OnTick { tick }' },
    name_: 'OnTick',
    type: 'subscription',
  },
  { name: 'not JSON', body: 'query X { y }' },
  { name: 'no query field', body: { foo: 1 } },
];
for (const c of gql) {
  test(`graphql: ${c.name}`, (t) => {
    const buf = Buffer.from(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
    const a = graphqlAttributes(buf, 4096);
    t.is(a['graphql.operation.name'], c.name_, c.name);
    t.is(a['graphql.operation.type'], c.type, c.name);
  });
}

test('graphql: over the size cap is not parsed; variables never recorded', (t) => {
  const body = Buffer.from(JSON.stringify({ query: 'query Q { a }', variables: { ssn: '123-45-6789' } }));
  t.deepEqual(graphqlAttributes(body, body.length - 1), {});
  t.false(JSON.stringify(graphqlAttributes(body, 4096)).includes('123-45-6789'));
});

test('headers: only allow-listed, credential headers never, values truncated and bounded', (t) => {
  const a = headerAttributes(
    h({ 'x-tenant': 'acme', authorization: 'Bearer abcdef', 'x-long': 'é'.repeat(100), 'x-many': Array(20).fill('v') }),
    ['x-tenant', 'authorization', 'x-long', 'x-many', 'x-absent'],
    11,
  );
  t.deepEqual(a['http.request.header.x-tenant'], ['acme']);
  t.is(a['http.request.header.authorization'], undefined);
  t.deepEqual(a['http.request.header.x-long'], ['ééééé'], 'cut at 11 bytes without splitting a character');
  t.is((a['http.request.header.x-many'] as string[]).length, 8);
  t.false('http.request.header.x-absent' in a);
  t.is(truncate('abc', 10), 'abc');
});

test('secret guard: drops any attribute echoing a credential from Authorization, Cookie or the query', (t) => {
  const secrets = secretsOf(h({ authorization: 'Basic dXNlcjpwYXNz', cookie: 'sid=cookie-value-1; x=1' }), [
    'qsecret99',
  ]);
  t.true(secrets.includes('dXNlcjpwYXNz'));
  t.true(secrets.includes('cookie-value-1'));
  t.false(secrets.includes('1'), 'short cookie values are not treated as secrets');
  const attrs = {
    'http.request.header.x-echo': ['prefix dXNlcjpwYXNz'],
    'url.query': 'a=qsecret99',
    'http.request.header.x-fine': ['ok'],
    n: 5,
  };
  t.is(dropSecrets(attrs, secrets), 2);
  t.deepEqual(Object.keys(attrs).sort(), ['http.request.header.x-fine', 'n']);
});

test('client address: IPv4 and IPv6 forms', (t) => {
  t.deepEqual(clientAddress('10.0.0.1:5000'), { 'client.address': '10.0.0.1', 'client.port': 5000 });
  t.deepEqual(clientAddress('[::1]:443'), { 'client.address': '::1', 'client.port': 443 });
  t.deepEqual(clientAddress('pipe'), { 'client.address': 'pipe' });
});

test('jwt: HS256 secret from the environment; expired, wrong-issuer and garbage tokens are not verified', async (t) => {
  process.env.MESHTRACE_TEST_JWT_SECRET = 'a-very-long-shared-secret-for-hs256-tests';
  const cfg = normaliseConfig({
    enrich: {
      jwt: {
        secretEnv: 'MESHTRACE_TEST_JWT_SECRET',
        issuer: 'iss-a',
        claims: { sub: 'enduser.id', roles: 'enduser.roles' },
      },
    },
  });
  const jwt = new JwtEnricher(cfg.enrich.jwt as NonNullable<typeof cfg.enrich.jwt>);
  const key = new TextEncoder().encode(process.env.MESHTRACE_TEST_JWT_SECRET);
  const sign = (iss: string, exp: string | number) =>
    new SignJWT({ sub: 'dana', roles: ['admin', 7] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(iss)
      .setExpirationTime(exp)
      .sign(key);

  const ok = await jwt.enrich(h({ authorization: `Bearer ${await sign('iss-a', '5m')}` }));
  t.deepEqual(ok.attrs, { 'enduser.id': 'dana', 'enduser.roles': ['admin'], 'meshtrace.jwt.verified': true });
  t.is(ok.verified?.sub, 'dana');

  const expired = await jwt.enrich(
    h({ authorization: `Bearer ${await sign('iss-a', Math.floor(Date.now() / 1000) - 60)}` }),
  );
  t.is(expired.attrs['meshtrace.jwt.error'], 'ERR_JWT_EXPIRED');
  t.is(expired.attrs['meshtrace.jwt.unverified.enduser.id'], 'dana');
  t.is(expired.verified, undefined);

  const wrongIss = await jwt.enrich(h({ authorization: `Bearer ${await sign('iss-b', '5m')}` }));
  t.is(wrongIss.attrs['meshtrace.jwt.error'], 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  t.is(wrongIss.attrs['enduser.id'], undefined);

  t.deepEqual((await jwt.enrich(h({ authorization: 'Bearer not.a.jwt' }))).attrs, {
    'meshtrace.jwt.verified': false,
    'meshtrace.jwt.error': 'ERR_JWS_INVALID',
  });
  t.deepEqual((await jwt.enrich(h({}))).attrs, {});
});

test('jwt: a missing secret variable is a config error naming the field', (t) => {
  const cfg = normaliseConfig({ enrich: { jwt: { secretEnv: 'MESHTRACE_SURELY_UNSET_VAR' } } });
  t.throws(() => new Enricher(cfg, new Metrics()), {
    message: /enrich\.jwt\.secretEnv: environment variable MESHTRACE_SURELY_UNSET_VAR is not set/,
  });
});

test('jwt cache: a token that verified is remembered; forged, expired, over-age and evicted ones are not', async (t) => {
  process.env.MESHTRACE_TEST_JWT_SECRET = 'a-very-long-shared-secret-for-hs256-tests';
  const config = (cacheSize?: number) =>
    normaliseConfig({
      enrich: {
        jwt: {
          secretEnv: 'MESHTRACE_TEST_JWT_SECRET',
          claims: { sub: 'enduser.id', roles: 'enduser.roles' },
          ...(cacheSize === undefined ? {} : { cacheSize }),
        },
      },
    }).enrich.jwt as NonNullable<ReturnType<typeof normaliseConfig>['enrich']['jwt']>;
  const key = new TextEncoder().encode(process.env.MESHTRACE_TEST_JWT_SECRET);
  const sign = (sub: string, exp: string | number, with_ = key) =>
    new SignJWT({ sub, roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(with_);
  const bearer = (token: string) => h({ authorization: `Bearer ${token}` });

  const jwt = new JwtEnricher(config());
  const token = await sign('dana', '10m');
  const first = await jwt.enrich(bearer(token));
  const again = await jwt.enrich(bearer(token));
  t.falsy(first.cached);
  t.true(again.cached, 'second use of a verified token is a cache hit');
  t.deepEqual(again.attrs, first.attrs);
  t.is(again.verified?.sub, 'dana');
  t.true(Object.isFrozen(again.verified), 'the shared payload cannot be changed by one request');

  // Same claims, other key: the signature differs, so the token differs and must verify (and fail).
  const forged = await jwt.enrich(bearer(await sign('dana', '10m', new TextEncoder().encode('x'.repeat(40)))));
  t.is(forged.attrs['meshtrace.jwt.verified'], false);
  t.falsy(forged.cached);

  // Trusted at most 60 s after it verified, even with a later exp.
  const later = await jwt.enrich(bearer(token), Date.now() + 61_000);
  t.falsy(later.cached);
  t.is(later.attrs['meshtrace.jwt.verified'], true);

  // Served from the cache only until its exp: then verification runs and rejects it.
  const shortLived = await sign('erin', Math.floor(Date.now() / 1000) + 1);
  t.true((await jwt.enrich(bearer(shortLived))).attrs['meshtrace.jwt.verified'] === true);
  await new Promise((r) => setTimeout(r, 2100));
  const expired = await jwt.enrich(bearer(shortLived));
  t.falsy(expired.cached);
  t.is(expired.attrs['meshtrace.jwt.error'], 'ERR_JWT_EXPIRED');
  t.is(expired.attrs['enduser.id'], undefined);

  // Bounded: least recently used first out.
  const small = new JwtEnricher(config(2));
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((s) => sign(s, '10m')));
  for (const tok of [a, b, a, c] as string[]) await small.enrich(bearer(tok));
  t.true((await small.enrich(bearer(a as string))).cached, 'a was used after b, so b went');
  t.falsy((await small.enrich(bearer(b as string))).cached);

  const off = new JwtEnricher(config(0));
  await off.enrich(bearer(token));
  t.falsy((await off.enrich(bearer(token))).cached, 'cacheSize 0 verifies every time');
});

test('jwt cache hits are counted and the attributes are the verified ones', async (t) => {
  process.env.MESHTRACE_TEST_JWT_SECRET = 'a-very-long-shared-secret-for-hs256-tests';
  const cfg = normaliseConfig({ enrich: { jwt: { secretEnv: 'MESHTRACE_TEST_JWT_SECRET' } } });
  const metrics = new Metrics();
  const enricher = new Enricher(cfg, metrics);
  const token = await new SignJWT({ sub: 'fay' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(process.env.MESHTRACE_TEST_JWT_SECRET));
  const req = { method: 'GET', target: '/', headers: h({ authorization: `Bearer ${token}` }), envoy: {} };
  const first = await enricher.request(req);
  const second = enricher.request(req);
  t.false(second instanceof Promise, 'a cache hit is answered synchronously');
  t.deepEqual((await second).attrs, first.attrs);
  t.is((await second).attrs['enduser.id'], 'fay');
  t.true((await second).secrets.includes(token), 'the cached token still feeds the secret guard');
  t.is(metrics.get('jwt_verified_total'), 2);
  t.is(metrics.get('jwt_cache_hits_total'), 1);
});
