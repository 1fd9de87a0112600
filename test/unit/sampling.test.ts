// Unit tests of the sampling core: each strategy alone, then the composed EdgeSampler.
import test from 'ava';
import {
  CostCap,
  decodeThreshold,
  EdgeSampler,
  encodeThreshold,
  parseSamplingConfig,
  probabilityToThreshold,
  readOt,
  type SamplingRequest,
  signDebugToken,
  assessTrust,
  verifyDebugToken,
  writeOtThreshold,
  TokenBucket,
  jwtClaim,
} from '../../core/sampling/index.ts';

const TRACE_LOW = '0af7651916cd43dd0000000000000001'; // R = 1: kept only at p = 1
const TRACE_HIGH = '0af7651916cd43ddfffffffffffffffe'; // R ≈ 2^56: kept at any p > 0

function request(over: Partial<SamplingRequest> = {}, headers: Record<string, string> = {}): SamplingRequest {
  return {
    method: 'GET',
    path: '/api/orders',
    authority: 'shop.example',
    header: (n) => headers[n],
    traceId: TRACE_HIGH,
    parent: null,
    trusted: false,
    nowMs: 1_000_000,
    ...over,
  };
}

test('threshold encoding follows the spec examples', (t) => {
  t.is(encodeThreshold(probabilityToThreshold(1)!), '0');
  t.is(encodeThreshold(probabilityToThreshold(0.5)!), '8');
  t.is(encodeThreshold(probabilityToThreshold(0.25)!), 'c');
  t.is(encodeThreshold(probabilityToThreshold(0.1)!), 'e666');
  t.is(encodeThreshold(probabilityToThreshold(0.1, 14)!), 'e6666666666666');
  t.is(probabilityToThreshold(0), null);
  t.is(decodeThreshold('8'), 1n << 55n);
  t.is(decodeThreshold('0'), 0n);
  t.is(decodeThreshold('G'), null, 'non-hex th is refused');
  t.is(decodeThreshold('123456789012345'), null, 'more than 14 digits is refused');
});

test('tracestate ot member is rewritten in front, others kept in order', (t) => {
  t.is(writeOtThreshold('a=1,ot=rv:0123456789abcd;x:y,b=2', '8'), 'ot=th:8;rv:0123456789abcd;x:y,a=1,b=2');
  t.is(writeOtThreshold('ot=th:8,a=1', null), 'a=1');
  t.deepEqual(readOt('ot=th:c;rv:00000000000001'), { th: 'c', rv: '00000000000001', rest: [] });
});

test('probability: explicit rv overrides the trace id randomness', (t) => {
  const s = new EdgeSampler(parseSamplingConfig({ probability: 0.5, trust: { boundary: 'internal' } }));
  const low = s.head(
    request({
      traceId: TRACE_HIGH,
      parent: { sampled: null, debug: false, random: true, tracestate: 'ot=rv:00000000000001' },
      trusted: true,
    }),
  );
  t.false(low.sampled);
  const high = s.head(
    request({
      traceId: TRACE_LOW,
      parent: { sampled: null, debug: false, random: true, tracestate: 'ot=rv:ffffffffffffff' },
      trusted: true,
    }),
  );
  t.true(high.sampled);
  t.is(high.keptBy, 'probability');
  t.is(readOt(high.tracestate).th, '8');
});

test('probability 0 drops, 1 keeps and writes th:0', (t) => {
  const none = new EdgeSampler(parseSamplingConfig({ probability: 0 }));
  t.false(none.head(request()).sampled);
  const all = new EdgeSampler(parseSamplingConfig({ probability: 1 }));
  const d = all.head(request({ traceId: TRACE_LOW }));
  t.true(d.sampled);
  t.is(d.tracestate, 'ot=th:0');
});

test('rules: first match decides; never beats probability; rate is consistent', (t) => {
  const s = new EdgeSampler(
    parseSamplingConfig({
      probability: 1,
      rules: [
        { name: 'health', match: { path_prefix: '/health' }, action: 'never' },
        {
          name: 'admin-post',
          match: { method: ['post'], path_regex: '^/admin/\\d+$', authority: 'Shop.Example' },
          action: 'always',
        },
        { name: 'canary', match: { headers: { 'X-Canary': 'yes' } }, action: 'rate', rate: 0.5 },
      ],
    }),
  );
  const h = s.head(request({ path: '/health/live' }));
  t.false(h.sampled);
  t.is(h.droppedBy, 'rule');
  t.is(h.rule, 'health');
  const a = s.head(request({ method: 'POST', path: '/admin/42', traceId: TRACE_LOW }));
  t.true(a.sampled);
  t.is(a.keptBy, 'rule');
  t.is(readOt(a.tracestate).th, null, 'an always-rule keep has no known adjusted count');
  t.is(s.head(request({ method: 'POST', path: '/admin/x' })).keptBy, 'probability', 'regex mismatch falls through');
  const c1 = s.head(request({ traceId: TRACE_LOW }, { 'x-canary': 'yes' }));
  const c2 = s.head(request({ traceId: TRACE_HIGH }, { 'x-canary': 'yes' }));
  t.deepEqual([c1.sampled, c2.sampled], [false, true]);
  t.is(readOt(c2.tracestate).th, '8');
});

test('parent: a trusted inbound decision is honoured with its th', (t) => {
  const s = new EdgeSampler(parseSamplingConfig({ probability: 0, trust: { boundary: 'internal' } }));
  const d = s.head(
    request({ trusted: true, parent: { sampled: true, debug: false, random: true, tracestate: 'ot=th:c,a=1' } }),
  );
  t.true(d.sampled);
  t.is(d.keptBy, 'parent');
  t.is(d.tracestate, 'ot=th:c,a=1');
  const n = new EdgeSampler(parseSamplingConfig({ probability: 1 })).head(
    request({ trusted: true, parent: { sampled: false, debug: false, random: true, tracestate: '' } }),
  );
  t.false(n.sampled);
  t.is(n.droppedBy, 'parent');
});

test('debug: user header, JWT claim, operation and header force a keep only when trusted', (t) => {
  const s = new EdgeSampler(
    parseSamplingConfig({
      probability: 0,
      debug: { user_header: 'X-User', users: ['alice'], jwt_claim: 'sub', operations: ['POST /checkout'] },
    }),
  );
  const jwt = `Bearer e30.${Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url')}.sig`;
  for (const [name, req] of [
    ['user header', request({}, { 'x-user': 'alice' })],
    ['jwt claim', request({}, { authorization: jwt })],
    ['operation', request({ method: 'POST', path: '/checkout/1' })],
    ['debug header', request({}, { 'x-meshtrace-debug': '1' })],
  ] as const) {
    t.false(s.head(req).sampled, `${name}: untrusted source must not force sampling`);
    const d = s.head({ ...req, trusted: true });
    t.is(d.keptBy, 'debug', `${name}: trusted source forces a debug keep`);
  }
  t.false(s.head(request({ trusted: true }, { 'x-user': 'bob' })).sampled, 'other users are not forced');
  t.is(jwtClaim('not-a-jwt', 'sub'), null);
});

test('error and latency bias keep head-dropped spans at response time', (t) => {
  const s = new EdgeSampler(
    parseSamplingConfig({
      probability: 0,
      latency: { threshold_ms: 1000, routes: [{ path_prefix: '/slow', threshold_ms: 50 }] },
    }),
  );
  const req = request();
  const head = s.head(req);
  t.false(head.sampled);
  t.is(s.final(req, head, { status: 503, durationMs: 1 }).keptBy, 'error');
  t.is(s.final(req, head, { status: 200, grpcStatus: 14, durationMs: 1 }).keptBy, 'error');
  t.is(s.final(req, head, { status: 0, reset: true, durationMs: 1 }).keptBy, 'error');
  t.is(s.final(req, head, { status: 200, durationMs: 1500 }).keptBy, 'latency');
  t.false(s.final(req, head, { status: 200, durationMs: 500 }).sampled);
  const slow = request({ path: '/slow/x' });
  t.is(s.final(slow, s.head(slow), { status: 200, durationMs: 60 }).keptBy, 'latency', 'per-route threshold wins');
  t.is(s.counters.kept.error, 3);
  t.is(s.counters.kept.latency, 2);
  t.is(s.counters.dropped.probability, 1);
});

test('token bucket: burst then refill at the configured rate', (t) => {
  const b = new TokenBucket(2, 3, 0);
  t.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  t.false(b.take(400), '0.8 token after 400 ms is not enough');
  t.true(b.take(500), 'one token after 500 ms');
  t.false(b.take(500));
  t.deepEqual(
    [b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)],
    [true, true, true, false],
    'refill capped at burst',
  );
});

test('cost cap: keeps over the cap are dropped and counted per route, debug bypasses', (t) => {
  const s = new EdgeSampler(
    parseSamplingConfig({ probability: 1, cost_cap: { per_second: 5, burst: 5 }, trust: { boundary: 'internal' } }),
  );
  let kept = 0;
  for (let i = 0; i < 20; i++) {
    const req = request({ nowMs: 5000, route: 'orders', trusted: true });
    if (s.final(req, s.head(req), { status: 200, durationMs: 1 }).sampled) kept++;
  }
  t.is(kept, 5);
  t.is(s.counters.dropped.cost_cap, 15);
  t.is(s.costCap?.dropped.get('orders'), 15);
  const dbg = request({ nowMs: 5000, route: 'orders', trusted: true }, { 'x-meshtrace-debug': '1' });
  t.is(s.head(dbg).keptBy, 'debug');
  const other = request({ nowMs: 5000, route: 'users', trusted: true });
  t.true(s.head(other).sampled, 'another route has its own bucket');
  const capMaxKeys = new CostCap({ perSecond: 1, burst: 1, per: 'route', maxKeys: 1 });
  t.true(capMaxKeys.admit('a', 0));
  t.true(capMaxKeys.admit('b', 0), 'first overflow key uses the shared overflow bucket');
  t.false(capMaxKeys.admit('c', 0), 'overflow bucket is shared');
});

const KEYS = { keys: new Map([['k1', 'sixteen-byte-secret!']]), maxTtlS: 600 };

test('debug token: valid, expired, too long-lived, bad signature, unknown key, malformed', (t) => {
  const now = 1_700_000_000_000;
  const nowS = now / 1000;
  t.deepEqual(verifyDebugToken(signDebugToken('k1', 'sixteen-byte-secret!', nowS + 60, 'alice'), KEYS, now), {
    valid: true,
    subject: 'alice',
    keyId: 'k1',
  });
  const table: Array<[string, string, string]> = [
    ['expired', signDebugToken('k1', 'sixteen-byte-secret!', nowS - 1, 'alice'), 'expired'],
    ['ttl too long', signDebugToken('k1', 'sixteen-byte-secret!', nowS + 601, 'alice'), 'ttl_too_long'],
    ['wrong secret', signDebugToken('k1', 'another-secret-value', nowS + 60, 'alice'), 'bad_signature'],
    [
      'subject changed',
      signDebugToken('k1', 'sixteen-byte-secret!', nowS + 60, 'alice').replace('alice', 'mallo'),
      'bad_signature',
    ],
    ['unknown key', signDebugToken('k2', 'sixteen-byte-secret!', nowS + 60, 'alice'), 'unknown_key'],
    ['malformed', 'v1.k1.notanumber.alice.xyz', 'malformed'],
  ];
  for (const [name, token, reason] of table) {
    t.deepEqual(verifyDebugToken(token, KEYS, now), { valid: false, reason } as never, name);
  }
});

test('trust boundary: edge ignores client flags unless a valid token is present', (t) => {
  const now = 1_700_000_000_000;
  const cfg = parseSamplingConfig({
    trust: {
      boundary: 'edge',
      inbound_context: 'parent',
      debug_token: { keys: [{ id: 'k1', secret: 'sixteen-byte-secret!' }] },
    },
  }).trust;
  const inbound = {
    valid: true,
    sampled: true,
    debug: true,
    random: true,
    tracestate: 'ot=th:0;rv:ffffffffffffff,a=1',
  };
  const none = assessTrust(cfg, inbound, () => undefined, now);
  t.false(none.trusted);
  t.is(none.attach, 'parent');
  t.deepEqual(none.honoured, { sampled: null, debug: false, random: true, tracestate: 'a=1' });
  const token = signDebugToken('k1', 'sixteen-byte-secret!', now / 1000 + 60, 'ops');
  const ok = assessTrust(cfg, inbound, (n) => (n === 'x-meshtrace-debug-token' ? token : undefined), now);
  t.true(ok.trusted);
  t.is(ok.debugTokenSubject, 'ops');
  t.is(ok.honoured?.sampled, true);
  const bad = assessTrust(cfg, inbound, () => `${token.slice(0, -2)}xx`, now);
  t.false(bad.trusted);
  t.is(bad.tokenRejected, 'bad_signature');
  const link = assessTrust({ ...cfg, inboundContext: 'link' }, inbound, () => undefined, now);
  t.is(link.attach, 'link');
  t.is(link.honoured, null);
  const internal = assessTrust({ ...cfg, boundary: 'internal' }, inbound, () => undefined, now);
  t.true(internal.trusted);
  t.is(internal.honoured?.debug, true);
});

test('an edge sampler at 0 % is not forced by a client sampled flag, but a token forces debug', (t) => {
  const s = new EdgeSampler(parseSamplingConfig({ probability: 0 }));
  const verdict = assessTrust(
    s.config.trust,
    { valid: true, sampled: true, debug: true, random: false, tracestate: '' },
    () => undefined,
  );
  const d = s.head(request({ parent: verdict.honoured, trusted: verdict.trusted }));
  t.false(d.sampled);
  const forced = s.head(request({ trusted: true, debugTokenSubject: 'ops' }));
  t.is(forced.keptBy, 'debug');
});

test('toString describes the composed configuration', (t) => {
  const s = new EdgeSampler(parseSamplingConfig({ probability: 0.25, cost_cap: { per_second: 3 } }));
  t.regex(String(s), /trust=edge\/parent/);
  t.regex(String(s), /p=0\.25, th=c/);
  t.regex(String(s), /CostCap\{3\/s per route, burst=3\}/);
});

test('R exactly at the threshold is kept, one below is not (spec: keep ⇔ R ≥ T)', (t) => {
  const s = new EdgeSampler(parseSamplingConfig({ probability: 0.5 }));
  t.true(s.head(request({ traceId: '0af7651916cd43dd0080000000000000' })).sampled);
  t.false(s.head(request({ traceId: '0af7651916cd43dd007fffffffffffff' })).sampled);
  const q = new EdgeSampler(parseSamplingConfig({ probability: 0.1 })); // T = 0xe6660000000000
  t.true(q.head(request({ traceId: '0af7651916cd43dd00e6660000000000' })).sampled);
  t.false(q.head(request({ traceId: '0af7651916cd43dd00e665ffffffffff' })).sampled);
});
