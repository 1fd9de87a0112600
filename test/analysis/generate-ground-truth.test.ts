// Every analysis checked against the answers the generator injected (its ground truth).
import test from 'ava';
import { bottlenecks } from '../../analysis/analyses/bottlenecks.ts';
import { capacity } from '../../analysis/analyses/capacity.ts';
import { spansByTrace } from '../../analysis/analyses/batch.ts';
import { criticalPath } from '../../analysis/analyses/critical-path.ts';
import { median } from '../../analysis/analyses/stats/percentiles.ts';
import { dependencyMap } from '../../analysis/analyses/dependency-map.ts';
import { errorOrigins } from '../../analysis/analyses/error-origin.ts';
import { errorPatterns } from '../../analysis/analyses/error-patterns.ts';
import { errorRates } from '../../analysis/analyses/error-rates.ts';
import { latencyBreakdown } from '../../analysis/analyses/latency-breakdown.ts';
import { latencyCorrelations } from '../../analysis/analyses/latency-correlations.ts';
import { recoveryTimes } from '../../analysis/analyses/recovery-times.ts';
import { redMetrics } from '../../analysis/analyses/red-metrics.ts';
import { regressions } from '../../analysis/analyses/regressions.ts';
import { defaultTopology, splitOperation } from '../../analysis/generate/topology.ts';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';

const SEED = 20261125;
const workload = generateWorkload(defaultWorkloadOptions(2000, SEED));
const { spans, truth } = workload;

test('the injected slow operation is ranked first as the bottleneck', (t) => {
  const r = bottlenecks(spans);
  t.deepEqual(r.errors, []);
  t.deepEqual({ service: r.value[0]!.service, operation: r.value[0]!.operation }, truth.bottleneck!);
  t.true(r.value[0]!.share > r.value[1]!.share * 2, 'by a clear margin');
  // The fire-and-forget email consumer (40 ms, outliving every request) is never on the path.
  t.false(r.value.some((b) => b.service === 'email'));
});

test('clock skew: every skewed host behind an RPC is corrected by the opposite of its offset', (t) => {
  const deltas = new Map<string, number[]>();
  let traces = 0;
  for (const trace of spansByTrace(spans).values()) {
    if (traces++ >= 400) break;
    const r = criticalPath(trace);
    if (!r.ok) return t.fail(r.reason);
    for (const a of r.value.skewAdjustments) deltas.set(a.host, [...(deltas.get(a.host) ?? []), a.deltaUs]);
  }
  // email-0 is only reached asynchronously (consumer after producer): nothing bounds it, no correction.
  const rpcHosts = Object.entries(truth.clockSkewUs).filter(
    ([host, skew]) => Math.abs(skew) >= 3_000 && !host.startsWith('email'),
  );
  t.true(rpcHosts.length >= 4);
  for (const [host, skew] of rpcHosts) {
    const d = deltas.get(host) ?? [];
    t.true(d.length >= 100, `${host}: corrected in ${d.length} traces`);
    t.true(Math.abs(median(d) + skew) <= 1_000, `${host}: median correction ${median(d)} µs for a ${skew} µs offset`);
  }
  t.false(deltas.has('email-0'));
  // Hosts with a correct clock are moved at most by the network-time guess (≤ 1 ms), never by a skew.
  for (const [host, skew] of Object.entries(truth.clockSkewUs)) {
    if (skew === 0)
      t.true(
        (deltas.get(host) ?? []).every((d) => Math.abs(d) < 1_000),
        host,
      );
  }
});

for (const seed of [SEED, 2, 3]) {
  test(`error origin is found in ≥ 99 % of erroring traces, with the propagation path (seed ${seed})`, (t) => {
    const w = seed === SEED ? workload : generateWorkload(defaultWorkloadOptions(1500, seed));
    t.true(w.truth.errors.length >= 30, `enough erroring traces to judge (${w.truth.errors.length})`);
    const found = new Map(errorOrigins(w.spans).value.map((o) => [o.traceId, o]));
    let right = 0;
    let pathsRight = 0;
    for (const e of w.truth.errors) {
      const o = found.get(e.traceId);
      if (o?.origin?.spanId === e.originSpanId) right++;
      if (o && o.propagationPath.map((p) => p.spanId).join() === e.path.join()) pathsRight++;
    }
    t.true(right / w.truth.errors.length >= 0.99, `${right}/${w.truth.errors.length} origins`);
    t.true(pathsRight / w.truth.errors.length >= 0.99, `${pathsRight}/${w.truth.errors.length} paths`);
    // The handled (absorbed) failures never make a trace count as erroring.
    t.is(found.size, w.truth.errors.length);
  });
}

test('error rates: the origin service originates every propagated failure, its callers none', (t) => {
  const rates = new Map(errorRates(spans).map((r) => [r.service, r]));
  const origin = rates.get(truth.errorOrigin!.service)!;
  t.true(origin.originated >= truth.errors.length);
  for (const caller of ['payments', 'checkout', 'frontend']) {
    t.is(rates.get(caller)!.originated, 0, caller);
    t.is(rates.get(caller)!.errors, truth.errors.length, caller);
  }
});

test('error patterns group the injected messages into their templates', (t) => {
  const { patterns } = errorPatterns(spans);
  const bank = patterns.filter((p) => p.service === 'bank' && p.operation === 'authorize').map((p) => p.template);
  t.true(bank.includes('authorization declined for card ending <num> (txn <uuid>)'));
  t.true(bank.includes('upstream timeout after <num> ms calling <ip>'));
  t.true(bank.includes('ledger write failed at <path>: disk quota exceeded'));
  // Wrappers ("upstream bank failed") of the ancestors are explained by a failing child: not patterns.
  t.false(patterns.some((p) => p.template.startsWith('upstream bank')));
});

test('recovery time: the error-rate breach of the origin service matches the injected incident', (t) => {
  const bank = recoveryTimes(spans).find((r) => r.service === truth.incident!.service)!;
  t.is(bank.episodes.length, 1);
  const e = bank.episodes[0]!;
  t.true(Math.abs(e.startUs - truth.incident!.startUs) <= 1_000_000, 'starts within one window of the incident');
  t.true(e.endUs !== null && Math.abs(e.endUs - truth.incident!.endUs) <= 1_000_000, 'ends within one window of it');
  t.true(bank.meanRecoveryUs! > 0);
});

test('regression between two service.versions is reported; the unchanged control operation is not', (t) => {
  const rg = truth.regression!;
  const r = regressions(spans, { by: 'version', from: rg.fromVersion, to: rg.toVersion });
  t.is(r.compared, 2, 'both operations of the service had enough samples');
  t.is(r.changes.length, 1);
  const c = r.changes[0]!;
  t.deepEqual([c.service, c.operation, c.direction], [rg.service, rg.operation, 'slower']);
  t.true(c.p < 1e-6);
  t.true(Math.abs(c.medianRatio - rg.factor) < 0.25, `median ratio ${c.medianRatio} near ${rg.factor}`);
  t.false(r.changes.some((x) => x.operation === truth.control!.operation));
});

test('regression between two time windows around the deploy is reported; a no-change workload reports nothing', (t) => {
  const rg = truth.regression!;
  const before = { startUs: truth.startUs, endUs: rg.deployUs };
  const after = { startUs: rg.deployUs, endUs: truth.endUs + 1 };
  const changed = regressions(spans, { by: 'window', from: before, to: after });
  t.true(
    changed.changes.some((c) => c.service === rg.service && c.operation === rg.operation && c.direction === 'slower'),
  );
  t.false(
    changed.changes.some((c) => c.service === truth.control!.service && c.operation === truth.control!.operation),
  );

  const steady = generateWorkload({
    ...defaultWorkloadOptions(2000, 99),
    regression: null,
    capacity: null,
    slow: null,
  });
  const mid = (steady.truth.startUs + steady.truth.endUs) / 2;
  const none = regressions(steady.spans, {
    by: 'window',
    from: { startUs: steady.truth.startUs, endUs: mid },
    to: { startUs: mid, endUs: steady.truth.endUs + 1 },
  });
  t.true(none.compared >= 8, `compared ${none.compared} operations`);
  t.deepEqual(none.changes, []);
});

test('latency correlates with the attribute that drives it and not with the others', (t) => {
  const found = latencyCorrelations(spans);
  for (const c of truth.correlations) {
    const hit = found.find(
      (f) => f.service === c.service && f.operation === c.operation && f.attribute === c.attribute,
    );
    t.is(hit !== undefined, c.correlated, `${c.service}/${c.operation} ${c.attribute}`);
    if (hit) t.true(hit.rho > 0.5);
  }
});

test('capacity: the knee of the load-sensitive service is near its capacity; flat services have none', (t) => {
  const cap = truth.capacity!;
  const byService = new Map(capacity(spans).map((c) => [c.service, c]));
  const knee = byService.get(cap.service)!.knee;
  t.not(knee, null);
  t.true(
    knee!.throughputPerS >= cap.kneeRatePerS * 0.6 && knee!.throughputPerS <= cap.kneeRatePerS * 1.5,
    `knee ${knee!.throughputPerS} req/s vs ${cap.kneeRatePerS}`,
  );
  for (const flat of ['auth', 'bank', 'cache']) t.is(byService.get(flat)!.knee, null, flat);
});

test('dependency map has exactly the edges of the topology, with the callee-side counts', (t) => {
  const topo = defaultTopology();
  const expected = new Set<string>();
  for (const [ref, op] of Object.entries(topo.operations)) {
    for (const c of op.calls ?? []) expected.add(`${splitOperation(ref).service}->${splitOperation(c.to).service}`);
  }
  const edges = dependencyMap(spans);
  t.deepEqual(edges.map((e) => `${e.caller}->${e.callee}`).sort(), [...expected].sort());
  const toBank = edges.find((e) => e.callee === 'bank')!;
  t.is(toBank.calls, truth.requests['bank/authorize']!.count);
  t.is(toBank.errors, truth.requests['bank/authorize']!.errors);
  t.true(toBank.p50Us <= toBank.p95Us && toBank.p95Us <= toBank.p99Us);
});

test('latency breakdown: the slow operation has the most self time; a caller’s self time excludes its callees', (t) => {
  const r = latencyBreakdown(spans);
  t.deepEqual(r.errors, []);
  const top = r.value[0]!;
  t.deepEqual({ service: top.service, operation: top.operation }, truth.bottleneck!);
  const charge = r.value.find((o) => o.service === 'payments' && o.operation === 'charge')!;
  const bank = r.value.find((o) => o.service === 'bank' && o.operation === 'authorize')!;
  t.true(
    charge.selfUs.p50 < charge.totalUs.p50 - bank.totalUs.p50 * 0.8,
    'charge self time is its total minus the bank call',
  );
  t.true(charge.selfUs.p50 > 0);
});

test('RED request counts are exact without sampling', (t) => {
  const red = redMetrics(spans);
  for (const m of red.metrics) {
    const want = truth.requests[`${m.service}/${m.operation}`]!;
    t.deepEqual([m.requests, m.errors], [want.count, want.errors], `${m.service}/${m.operation}`);
  }
});

test('RED request counts are sampling-adjusted from ot=th in tracestate', (t) => {
  const sampled = generateWorkload({ ...defaultWorkloadOptions(3000, 5), samplingThreshold: 'c' });
  const p = sampled.truth.sampling!.probability;
  t.is(p, 0.25);
  t.true(sampled.truth.keptTraces < 3000 * 0.35 && sampled.truth.keptTraces > 3000 * 0.15);
  for (const m of redMetrics(sampled.spans).metrics) {
    const want = sampled.truth.requests[`${m.service}/${m.operation}`]!;
    t.is(m.requests, m.sampledSpans * 4);
    // Whole traces are sampled: the estimate's error is binomial in traces.
    const sd = Math.sqrt((want.count * (1 - p)) / p) * Math.sqrt(want.count / 3000);
    t.true(
      Math.abs(m.requests - want.count) <= 4 * sd,
      `${m.service}/${m.operation}: ${m.requests} vs ${want.count} (sd ${sd.toFixed(0)})`,
    );
  }
});
