// Zero-code linking through real Envoy sidecars (issue 9, online path). Legacy services in three
// languages (examples/legacy: Python frontend and stock, Go inventory, Node pricing) forward no
// trace headers; each runs behind its own Envoy 1.40 (two worker threads) with the built filter,
// exporting to the real collector. One request at a time: the sidecars link every call at
// request time, and the collector holds one connected trace per request, checked edge by edge
// against the services' own ground truth (their x-request-ids — never trace headers). The
// control: the same mesh without linking gives one trace per hop.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type Collector, startCollector } from '../../analysis/collector/collector.ts';
import { REQUEST_ID, scoreLinking } from '../../analysis/linking/index.ts';
import type { Span } from '../../analysis/model.ts';
import { type LegacyMesh, startLegacyMesh, truthOf } from '../support/legacy-mesh.ts';
import { waitFor } from '../support/process.ts';

async function collectorFor(t: ExecutionContext): Promise<Collector> {
  const c = await startCollector({
    dataDir: mkdtempSync(join(tmpdir(), 'meshtrace-linking-e2e-')),
    httpPort: 0,
    grpcPort: false,
  });
  t.teardown(() => c.close());
  return c;
}

/** The trace holding the frontend's span of request `id`, once everything below it arrived. */
async function traceOf(c: Collector, id: string, minSpans: number): Promise<Span[]> {
  return waitFor(
    `the trace of ${id} in the collector`,
    async () => {
      await c.flush();
      const [hit] = await c.store.findTraces({ tags: { [REQUEST_ID]: id }, limit: 1 });
      if (!hit) return null;
      const spans = await c.store.getTrace(hit.traceId);
      return spans.length >= minSpans ? spans : null;
    },
    20_000,
    200,
  );
}

async function orders(mesh: LegacyMesh, tag: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${i}`;
    ids.push(id);
    const status = await mesh.order(10 + i, id);
    if (status !== 200) throw new Error(`GET /order/${10 + i} answered ${status}`);
  }
  return ids;
}

test('one request at a time: one connected trace across the Python, Go and Node services, every call linked by its sidecar', async (t) => {
  const c = await collectorFor(t);
  const mesh = await startLegacyMesh(t, { collector: `http://127.0.0.1:${c.httpPort}` });
  const ids = await orders(mesh, 'online', 4);
  const truth = truthOf(mesh.truth(), ids);
  const edges = truth.reduce((n, g) => n + g.out.length, 0);
  t.true(edges >= 4 * 8, `each order makes ≥ 8 calls through the mesh (got ${edges})`);

  const all: Span[] = [];
  for (const id of ids) {
    // frontend server + its calls + every callee's server span and calls: 1 + 2 × edges below it
    const below = truthOf(truth, [id]).reduce((n, g) => n + g.out.length, 0);
    const trace = await traceOf(c, id, 1 + 2 * below);
    all.push(...trace);
    t.deepEqual(
      [...new Set(trace.map((s) => s.service))].sort(),
      ['frontend', 'inventory', 'pricing', 'stock'],
      `${id}: spans of every service in one trace`,
    );
    t.is(new Set(trace.map((s) => s.traceId)).size, 1);
    const roots = trace.filter((s) => s.parentSpanId === null);
    t.is(roots.length, 1, `${id}: one root`);
    t.is(roots[0]?.attributes[REQUEST_ID], id);
  }
  const score = scoreLinking(all, truth, ids);
  t.deepEqual(score, { edges, missing: 0, correct: edges, wrong: 0, unlinked: 0, requests: 4, exact: 4 });
  // Every app call was linked by a sidecar with one request in flight: certain.
  const calls = all.filter((s) => s.kind === 'client');
  t.true(
    calls.every(
      (s) => s.attributes['meshtrace.link.method'] === 'single' && s.attributes['meshtrace.link.confidence'] === 1,
    ),
  );
  t.is(await mesh.counter('wasmcustom.meshtrace.link.single'), edges);
  t.is(await mesh.counter('wasmcustom.meshtrace.link.provisional'), 0);
});

test('control: without linking the same requests break into a trace per hop', async (t) => {
  const c = await collectorFor(t);
  const mesh = await startLegacyMesh(t, { collector: `http://127.0.0.1:${c.httpPort}`, linking: false });
  const [id] = await orders(mesh, 'unlinked', 1);
  const trace = await traceOf(c, id!, 1);
  await new Promise((r) => setTimeout(r, 1500)); // anything that would join it has arrived
  const again = await c.store.getTrace(trace[0]!.traceId);
  t.deepEqual(
    [...new Set(again.map((s) => s.service))],
    ['frontend'],
    'the frontend forwards no headers: its calls start traces of their own',
  );
  const score = scoreLinking(
    (await c.store.spansInWindow({ startUs: 0, endUs: Date.now() * 1000 })).spans,
    truthOf(mesh.truth(), [id!]),
    [id!],
  );
  t.is(score.correct, 0);
  t.true(score.unlinked > 0);
});
