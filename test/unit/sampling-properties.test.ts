// Property tests of the sampling core (fast-check): consistency across hops, rate within
// statistical bounds, monotonicity of thresholds, token bucket never over-admits, debug tokens.
import { createHash } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import {
  decodeThreshold,
  EdgeSampler,
  encodeThreshold,
  keeps,
  keepsHex,
  randomnessHex,
  randomnessOf,
  splitThreshold,
  parseSamplingConfig,
  probabilityToThreshold,
  readOt,
  type SamplingRequest,
  signDebugToken,
  TokenBucket,
  thresholdToProbability,
  verifyDebugToken,
} from '../../core/sampling/index.ts';

const traceId = fc.stringMatching(/^[0-9a-f]{32}$/).filter((s) => !/^0+$/.test(s));
const probability = fc.double({ min: 0.0001, max: 1, noNaN: true });

function req(id: string, parent: SamplingRequest['parent'] = null, trusted = false): SamplingRequest {
  return { method: 'GET', path: '/x', authority: 'a', header: () => undefined, traceId: id, parent, trusted, nowMs: 0 };
}

test('th encodes and decodes losslessly for every threshold', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(probability, fc.integer({ min: 1, max: 14 }), (p, precision) => {
        const th = probabilityToThreshold(p, precision)!;
        return decodeThreshold(encodeThreshold(th)) === th;
      }),
    ),
  );

  t.is(encodeThreshold(0n), '0');
});

test('rounded threshold stays within one unit of the 4th hex digit of the exact probability', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(probability, (p) => Math.abs(thresholdToProbability(probabilityToThreshold(p)!) - p) <= 2 ** -16),
    ),
  );
  t.true(thresholdToProbability(probabilityToThreshold(0.5)!) === 0.5);
});

test('consistency across hops: a downstream hop with p2 ≤ p1 keeps a subset, equal p → equal decisions', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(traceId, probability, probability, (id, a, b) => {
        const [hi, lo] = a >= b ? [a, b] : [b, a];
        const edge = new EdgeSampler(parseSamplingConfig({ probability: hi }));
        const inner = new EdgeSampler(parseSamplingConfig({ probability: lo, trust: { boundary: 'internal' } }));
        const same = new EdgeSampler(parseSamplingConfig({ probability: hi, trust: { boundary: 'internal' } }));
        const first = edge.head(req(id));
        // The inner hop decides on its own (no parent flag) from the same trace id.
        const second = inner.head(
          req(id, { sampled: null, debug: false, random: true, tracestate: first.tracestate }, true),
        );
        const third = same.head(
          req(id, { sampled: null, debug: false, random: true, tracestate: first.tracestate }, true),
        );
        return (!second.sampled || first.sampled) && third.sampled === first.sampled;
      }),
    ),
  );
});

test('a sampled span records th matching its probability; a parent-honouring hop passes it on', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(traceId, probability, (id, p) => {
        const edge = new EdgeSampler(parseSamplingConfig({ probability: p }));
        const d = edge.head(req(id));
        if (!d.sampled) return readOt(d.tracestate).th === null;
        const next = new EdgeSampler(parseSamplingConfig({ probability: 0, trust: { boundary: 'internal' } })).head(
          req(id, { sampled: true, debug: false, random: true, tracestate: d.tracestate }, true),
        );
        return (
          readOt(d.tracestate).th === encodeThreshold(probabilityToThreshold(p)!) && next.tracestate === d.tracestate
        );
      }),
    ),
  );
});

test('the BigInt and the split-number comparisons of R ≥ T agree', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(traceId, probability, fc.integer({ min: 1, max: 14 }), (id, p, precision) => {
        const th = probabilityToThreshold(p, precision);
        return keepsHex(randomnessHex(id)!, splitThreshold(th)) === keeps(randomnessOf(id)!, th);
      }),
    ),
  );
  t.false(keepsHex('ffffffffffffff', null), 'no threshold (p = 0) never keeps');
});

test('kept share over random trace ids is within 5 sigma of p', (t) => {
  for (const p of [0.01, 0.1, 0.5, 0.9]) {
    const s = new EdgeSampler(parseSamplingConfig({ probability: p }));
    const n = 20000;
    // fast-check's string arbitraries are biased towards edge cases; uniform ids come from SHA-256.
    const ids = Array.from({ length: n }, (_, i) =>
      createHash('sha256').update(`trace-${i}`).digest('hex').slice(0, 32),
    );
    const kept = ids.filter((id) => s.head(req(id)).sampled).length;
    const sigma = Math.sqrt(n * p * (1 - p));
    t.true(Math.abs(kept - n * p) <= 5 * sigma, `p=${p}: kept ${kept} of ${n}, expected ${n * p} ± ${5 * sigma}`);
  }
});

test('token bucket never admits more than burst + rate × elapsed', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 200 }),
        (rate, burst, gaps) => {
          const b = new TokenBucket(rate, burst, 0);
          let now = 0;
          let admitted = 0;
          for (const g of gaps) {
            now += g;
            if (b.take(now)) admitted++;
          }
          return admitted <= burst + (rate * now) / 1000 + 1e-9;
        },
      ),
    ),
  );
});

test('debug tokens: any change to a signed token invalidates it; valid within ttl until expiry', (t) => {
  const keys = { keys: new Map([['k', 'a-secret-of-sixteen']]), maxTtlS: 3600 };
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{0,20}$/),
        fc.nat(),
        (ttl, subject, pos) => {
          const now = 1_800_000_000_000;
          const token = signDebugToken('k', 'a-secret-of-sixteen', now / 1000 + ttl, subject);
          if (!verifyDebugToken(token, keys, now).valid) return false;
          if (verifyDebugToken(token, keys, now + ttl * 1000).valid) return false; // expired exactly at exp
          const i = pos % token.length;
          const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
          return !verifyDebugToken(flipped, keys, now).valid;
        },
      ),
    ),
  );
});
