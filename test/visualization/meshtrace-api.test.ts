// The analysis endpoints against the generator's ground truth: the injected bottleneck ranks
// first, the injected error origin is found with its propagation path, the injected regression
// is reported between the right versions, the service map has every service and edge, and the
// sampling statistics recover the dropped share of a sampled workload.
import test from 'ava';
import type { Bottleneck } from '../../analysis/analyses/bottlenecks.ts';
import type { CriticalPath } from '../../analysis/analyses/critical-path.ts';
import type { ErrorOrigin } from '../../analysis/analyses/error-origin.ts';
import type { OperationLatency } from '../../analysis/analyses/latency-breakdown.ts';
import type { SamplingStats, ServiceMap, VersionRegressions } from '../../visualization/index.ts';
import { type Served, serveWorkload } from './served-workload.ts';

let served: Served;
test.before(async () => {
  served = await serveWorkload(300, 5);
});
test.after.always(async () => {
  await served?.close();
});

test('critical-path/:traceID covers the root exactly and names spans of that trace', async (t) => {
  const root = served.workload.spans.find((s) => s.parentSpanId === null)!;
  const ids = new Set(served.workload.spans.filter((s) => s.traceId === root.traceId).map((s) => s.spanId));
  const { status, body } = await served.get<{ criticalPath: CriticalPath; errorOrigin: ErrorOrigin | null }>(
    `/api/meshtrace/critical-path/${root.traceId}`,
  );
  t.is(status, 200);
  const cp = body.data.criticalPath;
  t.is(cp.rootSpanId, root.spanId);
  t.true(cp.sections.length > 1);
  t.is(cp.sections[0]!.startUs, cp.startUs);
  t.is(cp.sections.at(-1)!.endUs, cp.endUs);
  for (let i = 1; i < cp.sections.length; i++) t.is(cp.sections[i]!.startUs, cp.sections[i - 1]!.endUs, 'contiguous');
  t.true(cp.sections.every((s) => ids.has(s.spanId)));
  t.false(body.data.errorOrigin?.rootFailed ?? false, 'this trace did not fail');
});

test('critical-path of a failed trace also gives the error origin and its propagation path', async (t) => {
  const truth = served.workload.truth.errors[0]!;
  const { body } = await served.get<{ errorOrigin: ErrorOrigin }>(`/api/meshtrace/critical-path/${truth.traceId}`);
  t.true(body.data.errorOrigin.rootFailed);
  t.is(body.data.errorOrigin.origin?.spanId, truth.originSpanId);
  t.deepEqual(
    body.data.errorOrigin.propagationPath.map((r) => r.spanId),
    truth.path,
  );
});

test('bottlenecks rank the injected slow operation first', async (t) => {
  const { body } = await served.get<{ bottlenecks: Bottleneck[]; spans: number }>('/api/meshtrace/bottlenecks');
  t.is(body.data.spans, served.workload.spans.length);
  const top = body.data.bottlenecks[0]!;
  t.deepEqual({ service: top.service, operation: top.operation }, served.workload.truth.bottleneck!);
  const total = body.data.bottlenecks.reduce((a, b) => a + b.share, 0);
  t.true(Math.abs(total - 1) < 1e-9, 'shares sum to 1');
});

test('errors: every failed trace’s origin is the injected one, with paths up to the root', async (t) => {
  const { body } = await served.get<{
    failedTraces: number;
    byOrigin: Array<{ service: string; operation: string; traces: number }>;
    traces: ErrorOrigin[];
  }>('/api/meshtrace/errors');
  const truth = served.workload.truth;
  t.is(body.data.failedTraces, truth.errors.length);
  t.deepEqual(
    body.data.byOrigin.map((o) => [o.service, o.operation, o.traces]),
    [[truth.errorOrigin!.service, truth.errorOrigin!.operation, truth.errors.length]],
  );
  const paths = new Map(truth.errors.map((e) => [e.traceId, e.path]));
  for (const o of body.data.traces)
    t.deepEqual(
      o.propagationPath.map((r) => r.spanId),
      paths.get(o.traceId),
    );
});

test('regressions find the injected slowdown between the two versions, not the control', async (t) => {
  const { body } = await served.get<VersionRegressions>('/api/meshtrace/regressions');
  const r = served.workload.truth.regression!;
  const slower = body.data.changes.filter((c) => c.direction === 'slower');
  t.true(
    slower.some(
      (c) =>
        c.service === r.service &&
        c.operation === r.operation &&
        c.fromVersion === r.fromVersion &&
        c.toVersion === r.toVersion,
    ),
    JSON.stringify(body.data.changes),
  );
  const control = served.workload.truth.control!;
  t.false(body.data.changes.some((c) => c.service === control.service && c.operation === control.operation));
  const explicit = await served.get<VersionRegressions>(
    `/api/meshtrace/regressions?fromVersion=${r.fromVersion}&toVersion=${r.toVersion}`,
  );
  t.deepEqual(
    explicit.body.data.comparisons.map((c) => c.service),
    [r.service],
  );
});

test('dependency-map: every service is a node, edges carry calls, errors and latency', async (t) => {
  const { body } = await served.get<ServiceMap>('/api/meshtrace/dependency-map');
  const services = [...new Set(served.workload.spans.map((s) => s.service))].sort();
  t.deepEqual(
    body.data.nodes.filter((n) => !n.uninstrumented).map((n) => n.service),
    services,
  );
  const edge = body.data.edges.find((e) => e.caller === 'payments' && e.callee === 'bank');
  if (!edge) return t.fail('payments → bank edge missing');
  t.is(edge.calls, 300);
  t.true(edge.errors > 0, 'bank failures show on the edge');
  t.true(edge.p95Us >= edge.p50Us && edge.p50Us > 0);
  const bank = body.data.nodes.find((n) => n.service === 'bank')!;
  t.true(bank.errorRate > 0);
});

test('latency: self time never exceeds total time; the slow operation has the largest self time', async (t) => {
  const { body } = await served.get<{ operations: OperationLatency[] }>('/api/meshtrace/latency');
  const ops = body.data.operations;
  t.true(ops.length > 5);
  for (const o of ops) t.true(o.selfUs.sum <= o.totalUs.sum + 1e-6, `${o.service}/${o.operation}`);
  t.deepEqual({ service: ops[0]!.service, operation: ops[0]!.operation }, served.workload.truth.bottleneck!);
});

test('status reports the store counts (what the UI polls for live refresh)', async (t) => {
  const { body } = await served.get<{ store: { spans: number; traces: number } }>('/api/meshtrace/status');
  t.is(body.data.store.spans, served.workload.spans.length);
  t.is(body.data.store.traces, served.workload.truth.keptTraces);
});

test('sampling-stats: kept by reason and the dropped share estimated from ot=th weights', async (t) => {
  // threshold c → keep probability 1/4: the kept traces stand for 4× as many requests
  const sampled = await serveWorkload(400, 9, { samplingThreshold: 'c' });
  t.teardown(() => sampled.close());
  const { body } = await sampled.get<{ sampling: SamplingStats }>('/api/meshtrace/sampling-stats');
  const s = body.data.sampling;
  const kept = sampled.workload.truth.keptTraces;
  t.is(s.keptTraces, kept);
  t.is(s.estimatedTraces, kept * 4);
  t.is(s.estimatedDropped, kept * 3);
  t.deepEqual(s.byProbability, [{ probability: 0.25, kept, estimatedDropped: kept * 3 }]);
  t.deepEqual(s.weightSource, { tracestate: kept });
  t.deepEqual(s.keptBy, { unrecorded: kept });
  t.true(kept > 50 && kept < 150, `about a quarter of 400 kept, got ${kept}`);
});
