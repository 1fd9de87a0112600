// The AS sampler (wasm-filters/assembly/sampling/, through the built sampling probe) and the TS
// core (core/sampling/) decide the same for the same inputs: per configuration, one seeded
// sequence of requests (trace ids, inbound contexts, headers, debug tokens, outcomes, clock)
// runs through both — trust boundary, head and final decision, in order, so cost-cap state
// is exercised too — and every field is compared.
import test from 'ava';
import {
  assessTrust,
  EdgeSampler,
  type ExtractedContext,
  parseSamplingConfig,
  type SamplingRequest,
  signDebugToken,
} from '../../core/sampling/index.ts';
import { OP, probeCall } from './sampling-probe.ts';

const SECRET = 'a-debug-secret-of-32-characters!';
const OTHER = 'another-secret-0123456789abcdef';

const CONFIGS: Record<string, unknown> = {
  'probability 0.25': { probability: 0.25 },
  'probability 0.1, precision 14': { probability: 0.1, precision: 14 },
  'error + latency at 0 % head rate': {
    probability: 0,
    error: { http_status_min: 429 },
    latency: {
      threshold_ms: 200,
      routes: [
        { path_prefix: '/slow', threshold_ms: 50 },
        { route: 'checkout', threshold_ms: 10 },
      ],
    },
  },
  'error off, grpc/reset off': { probability: 0, error: { enabled: true, grpc: false, reset: false } },
  rules: {
    probability: 0.1,
    precision: 2,
    rules: [
      { name: 'writes', match: { method: ['POST', 'put'], path_prefix: '/api' }, action: 'always' },
      { match: { path_regex: '^/users/\\d+/orders$' }, action: 'rate', rate: 0.5 },
      { match: { path_regex: 'heal[th]+z?' }, action: 'never' },
      { match: { authority: 'Internal.Example', headers: { 'X-Tenant': 'acme' } }, action: 'never' },
      { match: { method: 'get', path_regex: '[^a-z/]\\.json' }, action: 'rate', rate: 1 },
    ],
  },
  'internal listener with debug users and operations': {
    probability: 0.5,
    trust: { boundary: 'internal' },
    debug: {
      user_header: 'X-User',
      jwt_claim: 'sub',
      users: ['alice', '42'],
      operations: ['* /admin', 'DELETE /api'],
    },
  },
  'edge with debug tokens, untrusted context as link': {
    probability: 0.3,
    debug: { users: ['alice'], user_header: 'x-user' },
    trust: {
      boundary: 'edge',
      inbound_context: 'link',
      debug_token: { keys: [{ id: 'k1', secret: SECRET }], max_ttl_s: 600 },
    },
  },
  'edge with debug tokens, untrusted context as parent': {
    probability: 0.5,
    trust: { debug_token: { header: 'X-Debug-Token', keys: [{ id: 'k1', secret: SECRET }] } },
  },
  'cost cap per route': { probability: 1, cost_cap: { per_second: 5, burst: 3 }, latency: { threshold_ms: 100 } },
  'cost cap per service, two keys': {
    probability: 0.8,
    trust: { boundary: 'internal' },
    cost_cap: { per_second: 2, per: 'service', max_keys: 2 },
  },
};

/** mulberry32: a small seeded PRNG, so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  method: string;
  path: string;
  authority: string;
  headers: Array<[string, string]>;
  traceId: string;
  inbound: ExtractedContext | null;
  route: string;
  service: string;
  nowMs: number;
  outcome: { status: number; grpcStatus: number | null; reset: boolean; durationMs: number };
}

function jwt(payload: object): string {
  const b = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'none' })}.${b(payload)}.sig`;
}

function cases(seed: number, n: number): Case[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hexN = (k: number) => Array.from({ length: k }, () => Math.floor(r() * 16).toString(16)).join('');
  let now = 1_700_000_000_000;
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    now += Math.floor(r() * 400);
    const nowS = Math.floor(now / 1000);
    const headers: Array<[string, string]> = [];
    if (r() < 0.2) headers.push(['x-meshtrace-debug', pick(['1', '0', 'false', 'FALSE', '', 'yes'])]);
    if (r() < 0.3) headers.push(['x-user', pick(['alice', 'bob', '42'])]);
    if (r() < 0.2)
      headers.push([
        'authorization',
        pick([
          `Bearer ${jwt({ sub: 'alice' })}`,
          jwt({ sub: 42 }),
          `Bearer ${jwt({ sub: 'eve' })}`,
          'Bearer x.y',
          'Basic abc',
        ]),
      ]);
    if (r() < 0.3) headers.push(['x-tenant', pick(['acme', 'other'])]);
    if (r() < 0.4) {
      const token = pick([
        signDebugToken('k1', SECRET, nowS + 60, 'ops-1'),
        signDebugToken('k1', SECRET, nowS + 60),
        signDebugToken('k1', SECRET, nowS - 1, 'late'),
        signDebugToken('k1', SECRET, nowS + 5000, 'long'),
        signDebugToken('k1', OTHER, nowS + 60, 'forged'),
        signDebugToken('k9', SECRET, nowS + 60, 'nokey'),
        `v1.k1.${nowS + 60}.x.short`,
        ` ${signDebugToken('k1', SECRET, nowS + 30, 'spaced')} `,
        'garbage',
      ]);
      headers.push([pick(['x-meshtrace-debug-token', 'x-debug-token']), token]);
    }
    const valid = r() < 0.6;
    const inbound: ExtractedContext | null =
      r() < 0.2
        ? null
        : {
            valid,
            sampled: pick([true, false, null]),
            debug: r() < 0.15,
            random: r() < 0.5,
            tracestate: pick([
              '',
              'ot=th:8',
              `ot=th:c;rv:${hexN(14)},vendor=x`,
              'a=1,b=2',
              `b=1,ot=rv:${hexN(14)};x:y`,
            ]),
          };
    out.push({
      method: pick(['GET', 'get', 'POST', 'PUT', 'DELETE', 'PATCH']),
      path: pick([
        '/api/orders',
        '/users/17/orders',
        '/users/x/orders',
        '/slow/report',
        '/admin/panel',
        '/healthz',
        '/data/a1.json',
        '/',
      ]),
      authority: pick(['shop.example', 'internal.example', 'INTERNAL.EXAMPLE']),
      headers,
      traceId: hexN(32),
      inbound,
      route: pick(['', '', 'checkout']),
      service: pick(['svc-a', 'svc-b', 'svc-c']),
      nowMs: now,
      outcome: {
        status: pick([200, 200, 200, 201, 404, 429, 500, 503, 0]),
        grpcStatus: pick([null, null, 0, 2, 14]),
        reset: r() < 0.05,
        durationMs: Math.floor(r() * 300),
      },
    });
  }
  return out;
}

function tsRun(config: unknown, list: Case[]): unknown[] {
  const cfg = parseSamplingConfig(config);
  const sampler = new EdgeSampler(cfg);
  return list.map((c) => {
    const header = (name: string) => c.headers.find(([n]) => n === name)?.[1];
    const trust = assessTrust(cfg.trust, c.inbound, header, c.nowMs);
    const req: SamplingRequest = {
      method: c.method,
      path: c.path,
      authority: c.authority,
      header,
      traceId: c.traceId,
      parent: trust.honoured,
      trusted: trust.trusted,
      nowMs: c.nowMs,
      service: c.service,
      ...(c.route === '' ? {} : { route: c.route }),
      ...(trust.debugTokenSubject === undefined ? {} : { debugTokenSubject: trust.debugTokenSubject }),
    };
    const head = sampler.head(req);
    const fin = sampler.final(req, head, c.outcome);
    const pickD = (d: { sampled: boolean; keptBy: string | null; droppedBy: string | null }, tracestate: string) => ({
      sampled: d.sampled,
      keptBy: d.keptBy,
      droppedBy: d.droppedBy,
      tracestate,
    });
    return {
      trusted: trust.trusted,
      attach: trust.attach,
      tokenRejected: trust.tokenRejected ?? null,
      subject: trust.debugTokenSubject ?? null,
      head: pickD(head, head.tracestate),
      final: pickD(fin, head.tracestate),
    };
  });
}

for (const [name, config] of Object.entries(CONFIGS)) {
  test(`AS and TS samplers agree: ${name}`, (t) => {
    const list = cases(name.length * 7919 + 17, 400);
    const want = tsRun(config, list);
    const got = probeCall(OP.decide, {
      config,
      cases: list.map((c) => ({ ...c, outcome: { ...c.outcome, grpcStatus: c.outcome.grpcStatus ?? -1 } })),
    });
    t.is(got['error'], undefined, String(got['error']));
    const results = got['results'] as unknown[];
    t.is(results.length, list.length);
    for (let i = 0; i < list.length; i++)
      t.deepEqual(results[i], want[i], `${name}: case ${i} ${JSON.stringify(list[i])}`);
    // The table exercises both outcomes (a check that could pass vacuously would prove nothing).
    const kept = (want as Array<{ final: { sampled: boolean } }>).filter((w) => w.final.sampled).length;
    if (name !== 'cost cap per route')
      t.true(kept > 0 && kept < list.length, `${name}: kept ${kept} of ${list.length}`);
  });
}

test('consistent probability: AS and TS keep exactly the same trace ids at each rate', (t) => {
  const list = cases(4242, 1000).map((c) => ({
    ...c,
    headers: [],
    inbound: null,
    outcome: { ...c.outcome, status: 200, grpcStatus: null, reset: false, durationMs: 0 },
  }));
  for (const p of [0, 1e-6, 0.01, 0.1, 1 / 3, 0.5, 0.9, 0.999999, 1]) {
    for (const precision of [1, 4, 14]) {
      const config = { probability: p, precision, error: { enabled: false } };
      const want = tsRun(config, list) as Array<{ head: unknown }>;
      const got = probeCall(OP.decide, {
        config,
        cases: list.map((c) => ({ ...c, outcome: { ...c.outcome, grpcStatus: -1 } })),
      })['results'] as Array<{ head: unknown }>;
      t.deepEqual(
        got.map((g) => g.head),
        want.map((w) => w.head),
        `p=${p} precision=${precision}`,
      );
    }
  }
});

test('the parity cases reach every keep reason, drop reason and token refusal', (t) => {
  const kept = new Set<unknown>();
  const dropped = new Set<unknown>();
  const refused = new Set<unknown>();
  const attach = new Set<unknown>();
  for (const [name, config] of Object.entries(CONFIGS)) {
    for (const w of tsRun(config, cases(name.length * 7919 + 17, 400)) as Array<
      Record<string, Record<string, unknown>>
    >) {
      kept.add(w['final']!['keptBy']);
      dropped.add(w['final']!['droppedBy']);
      refused.add(w['tokenRejected']);
      attach.add(w['attach']);
    }
  }
  for (const k of ['debug', 'rule', 'parent', 'probability', 'error', 'latency']) t.true(kept.has(k), `kept_by ${k}`);
  for (const d of ['rule', 'parent', 'probability', 'cost_cap']) t.true(dropped.has(d), `dropped_by ${d}`);
  for (const r of ['malformed', 'unknown_key', 'bad_signature', 'expired', 'ttl_too_long'])
    t.true(refused.has(r), `token ${r}`);
  for (const a of ['none', 'parent', 'link']) t.true(attach.has(a), `attach ${a}`);
});
