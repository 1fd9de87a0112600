// The embedded DuckDB store through the TraceStore interface: round trip, Jaeger-style queries,
// whole-trace windows for analyses, retention by age and by size, persistence across reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { Span } from '../../analysis/model.ts';
import { decodeProtobufRequest } from '../../analysis/otlp/codec.ts';
import { DEFAULT_SPAN_LIMITS } from '../../analysis/otlp/limits.ts';
import { ExportTraceServiceRequest } from '../../analysis/otlp/schema.ts';
import { decodeSpanRows } from '../../analysis/otlp/span-rows.ts';
import { toSpans } from '../../analysis/otlp/to-spans.ts';
import { SpanRow } from '../../analysis/span-row.ts';
import { DuckDBTraceStore } from '../../analysis/store/duckdb-store.ts';

const T0 = 1_700_000_000_000_000; // µs

function span(over: Partial<Span> & Pick<Span, 'traceId' | 'spanId'>): Span {
  return {
    parentSpanId: null,
    name: 'GET /',
    kind: 'server',
    service: 'frontend',
    startUs: T0,
    endUs: T0 + 1000,
    status: 'unset',
    statusMessage: '',
    attributes: {},
    resource: { 'service.name': over.service ?? 'frontend' },
    events: [],
    links: [],
    ...over,
  };
}

const tid = (n: number) => n.toString(16).padStart(32, '0');
const sid = (n: number) => n.toString(16).padStart(16, '0');

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(t: { teardown(fn: () => Promise<void> | void): void }, dataDir?: string) {
  const store = await DuckDBTraceStore.open({ dataDir: dataDir ?? tempDir(t) });
  t.teardown(() => store.close());
  return store;
}

test('a span round-trips intact: ids, parent, attributes, resource, events, links, status, tracestate', async (t) => {
  const store = await open(t);
  const root = span({
    traceId: tid(1),
    spanId: sid(1),
    attributes: { 'http.method': 'GET', 'http.status_code': 200, ok: true, tags: ['a', 'b'], nothing: null },
    resource: { 'service.name': 'frontend', 'service.version': '1.2.3', 'host.cpu': 4 },
    events: [{ timeUs: T0 + 10, name: 'exception', attributes: { 'exception.message': 'boom' } }],
    links: [{ traceId: tid(9), spanId: sid(9), attributes: { reason: 'batch' } }],
    status: 'error',
    statusMessage: 'upstream failed',
    traceState: 'ot=th:8',
  });
  const child = span({
    traceId: tid(1),
    spanId: sid(2),
    parentSpanId: sid(1),
    kind: 'client',
    name: 'SELECT',
    startUs: T0 + 100,
    endUs: T0 + 400,
  });
  await store.append([child, root]);
  t.deepEqual(await store.getTrace(tid(1)), [root, child]);
  t.deepEqual(await store.getTrace(tid(1).toUpperCase()), [root, child]);
  t.deepEqual(await store.getTrace(tid(2)), []);
  const stats = await store.stats();
  t.like(stats, { spans: 2, traces: 1 });
  t.true(stats.bytes > 200, 'bytes counts the stored fields');
});

test('findTraces: service, operation, tags, error tag, duration, time range, limit newest first', async (t) => {
  const store = await open(t);
  const spans: Span[] = [];
  for (let i = 1; i <= 6; i++) {
    spans.push(
      span({
        traceId: tid(i),
        spanId: sid(i * 10),
        startUs: T0 + i * 1_000_000,
        endUs: T0 + i * 1_000_000 + i * 1000,
        attributes: { 'http.route': i % 2 === 0 ? '/even' : '/odd', 'http.status_code': 200 + i },
      }),
      span({
        traceId: tid(i),
        spanId: sid(i * 10 + 1),
        parentSpanId: sid(i * 10),
        service: 'db',
        resource: { 'service.name': 'db', 'deployment.environment': i === 3 ? 'canary' : 'prod' },
        name: i === 5 ? 'UPDATE' : 'SELECT',
        kind: 'server',
        startUs: T0 + i * 1_000_000 + 10,
        endUs: T0 + i * 1_000_000 + 20,
        status: i === 4 ? 'error' : 'unset',
      }),
    );
  }
  await store.append(spans);
  const ids = async (q: Parameters<typeof store.findTraces>[0]) => (await store.findTraces(q)).map((x) => x.traceId);

  t.deepEqual(await ids({}), [6, 5, 4, 3, 2, 1].map(tid), 'newest first');
  t.deepEqual(await ids({ limit: 2 }), [tid(6), tid(5)]);
  t.deepEqual(await ids({ service: 'db', operation: 'UPDATE' }), [tid(5)]);
  t.deepEqual(await ids({ service: 'frontend', operation: 'UPDATE' }), [], 'conditions hold on one span');
  t.deepEqual(await ids({ tags: { 'http.route': '/even' } }), [tid(6), tid(4), tid(2)]);
  t.deepEqual(await ids({ tags: { 'http.status_code': 203 } }), [tid(3)], 'numbers compare as text');
  t.deepEqual(await ids({ tags: { 'deployment.environment': 'canary' } }), [tid(3)], 'resource attributes');
  t.deepEqual(await ids({ tags: { error: true } }), [tid(4)], 'error=true matches status error');
  t.deepEqual(await ids({ minDurationUs: 4000, maxDurationUs: 5000 }), [tid(5), tid(4)]);
  t.deepEqual(await ids({ startUs: T0 + 2_000_000, endUs: T0 + 4_000_000 }), [tid(3), tid(2)]);
  const [first] = await store.findTraces({ limit: 1 });
  t.is(first?.spans.length, 2, 'whole traces are returned');
  t.deepEqual(await store.services(), ['db', 'frontend']);
  t.deepEqual(await store.operations('db'), [
    { name: 'SELECT', kind: 'server' },
    { name: 'UPDATE', kind: 'server' },
  ]);
  await t.throwsAsync(store.findTraces({ minDurationUs: Number.NaN }), { message: /minDurationUs must be a finite/ });
});

test('spansInWindow returns whole traces whose first span starts in the window, bounded by whole traces', async (t) => {
  const store = await open(t);
  const spans: Span[] = [];
  // trace i starts at T0 + i s and has i spans; its later spans may lie past the window end
  for (let i = 1; i <= 4; i++) {
    for (let j = 0; j < i; j++) {
      spans.push(
        span({
          traceId: tid(i),
          spanId: sid(i * 100 + j),
          parentSpanId: j === 0 ? null : sid(i * 100),
          startUs: T0 + i * 1_000_000 + j * 900_000,
          endUs: T0 + i * 1_000_000 + j * 900_000 + 10,
        }),
      );
    }
  }
  await store.append(spans);
  const w = await store.spansInWindow({ startUs: T0 + 2_000_000, endUs: T0 + 4_000_000 });
  t.deepEqual(
    w.spans.map((s) => s.spanId),
    [sid(200), sid(201), sid(300), sid(301), sid(302)],
  );
  t.is(w.truncatedTraces, 0);
  const limited = await store.spansInWindow({ startUs: T0, endUs: T0 + 10_000_000, limitSpans: 7 });
  t.deepEqual([...new Set(limited.spans.map((s) => s.traceId))], [tid(1), tid(2), tid(3)]);
  t.is(limited.truncatedTraces, 1);
  await t.throwsAsync(store.spansInWindow({ startUs: 5, endUs: 1 }), { message: /startUs <= endUs/ });
});

test('retention by age deletes whole traces whose last span ended before the cutoff', async (t) => {
  const store = await open(t);
  const now = T0 + 3_600_000_000; // one hour after T0
  await store.append([
    span({ traceId: tid(1), spanId: sid(1), startUs: T0, endUs: T0 + 10 }), // old
    span({ traceId: tid(2), spanId: sid(2), startUs: T0, endUs: T0 + 10 }), // old root …
    span({ traceId: tid(2), spanId: sid(3), parentSpanId: sid(2), startUs: now - 1000, endUs: now - 500 }), // … recent child
    span({ traceId: tid(3), spanId: sid(4), startUs: now - 60_000_000, endUs: now - 59_000_000 }),
  ]);
  const r = await store.enforceRetention({ maxAgeMs: 30 * 60 * 1000 }, now);
  t.deepEqual(r, { deletedTraces: 1, deletedSpans: 1 });
  t.deepEqual(await store.getTrace(tid(1)), []);
  t.is((await store.getTrace(tid(2))).length, 2, 'a trace with a recent span is kept whole');
  t.is((await store.getTrace(tid(3))).length, 1);
});

test('retention by size keeps the newest traces that fit the byte budget', async (t) => {
  const store = await open(t);
  const spans: Span[] = [];
  for (let i = 1; i <= 10; i++) {
    spans.push(
      span({
        traceId: tid(i),
        spanId: sid(i),
        startUs: T0 + i * 1000,
        endUs: T0 + i * 1000 + 5,
        attributes: { pad: 'x'.repeat(400) },
      }),
    );
  }
  await store.append(spans);
  const before = await store.stats();
  const perTrace = before.bytes / 10;
  const r = await store.enforceRetention({ maxBytes: Math.floor(perTrace * 3.5) });
  t.deepEqual(r, { deletedTraces: 7, deletedSpans: 7 });
  t.deepEqual(
    (await store.findTraces({})).map((x) => x.traceId),
    [tid(10), tid(9), tid(8)],
  );
  t.true((await store.stats()).bytes <= perTrace * 3.5);
  t.deepEqual(await store.enforceRetention({ maxBytes: 1e9, maxAgeMs: 1e12 }), { deletedTraces: 0, deletedSpans: 0 });
});

test('SpanRows from the protobuf receivers are stored as the spans toSpans gives, sharing resources', async (t) => {
  const kv = (key: string, stringValue: string) => ({ key, value: { stringValue } });
  const body = ExportTraceServiceRequest.encode(
    ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [kv('service.name', 'cart'), kv('host.name', 'h1')] },
          scopeSpans: [
            {
              spans: [1, 2].map((n) => ({
                traceId: Buffer.from(tid(7), 'hex'),
                spanId: Buffer.from(sid(n), 'hex'),
                parentSpanId: n === 2 ? Buffer.from(sid(1), 'hex') : undefined,
                name: `op ${n}`,
                kind: 2,
                startTimeUnixNano: `${T0 + n}000`,
                endTimeUnixNano: `${T0 + 10 * n}000`,
                attributes: [kv('http.route', '/cart/{id}'), { key: 'n', value: { intValue: n } }],
                events: n === 1 ? [{ name: 'retry', attributes: [kv('why', 'timeout')] }] : [],
                status: { code: n, message: n === 2 ? 'fine' : '' },
              })),
            },
          ],
        },
      ],
    }),
  ).finish();
  const rows = decodeSpanRows(body, DEFAULT_SPAN_LIMITS).spans;
  const plain = toSpans((decodeProtobufRequest(body) as { ok: true; request: never }).request).spans;
  t.true(rows.every((r) => r instanceof SpanRow));
  const store = await open(t);
  await store.append(rows);
  t.deepEqual(await store.getTrace(tid(7)), plain);
  // the same resource arriving as plain spans maps to the same stored resource
  await store.append([span({ traceId: tid(8), spanId: sid(3), service: 'cart', resource: plain[0]?.resource })]);
  t.deepEqual((await store.getTrace(tid(8)))[0]?.resource, { 'service.name': 'cart', 'host.name': 'h1' });
  const resources = await (
    store as unknown as { reader: { runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> } }
  ).reader.runAndReadAll('SELECT count(*)::INTEGER FROM resources');
  t.deepEqual(resources.getRows(), [[1]], 'one resource row for both');
});

test('shared resources: dropped with their last span, ids unique across reopen', async (t) => {
  const dir = tempDir(t);
  const first = await DuckDBTraceStore.open({ dataDir: dir });
  const a = { 'service.name': 'a', 'k8s.pod.name': 'a-1' };
  const b = { 'service.name': 'b', 'k8s.pod.name': 'b-1' };
  await first.append([
    span({ traceId: tid(1), spanId: sid(1), service: 'a', resource: a, endUs: T0 + 1 }),
    span({ traceId: tid(1), spanId: sid(2), service: 'a', resource: { ...a } }),
    span({
      traceId: tid(2),
      spanId: sid(3),
      service: 'b',
      resource: b,
      startUs: T0 + 5_000_000,
      endUs: T0 + 5_000_001,
    }),
  ]);
  await first.enforceRetention({ maxAgeMs: 1000 }, T0 + 3_000_000); // trace 1 (resource a) ages out
  await first.close();
  const second = await open(t, dir);
  const c = { 'service.name': 'c' };
  await second.append([span({ traceId: tid(3), spanId: sid(4), service: 'c', resource: c })]);
  t.deepEqual((await second.getTrace(tid(2)))[0]?.resource, b, 'the surviving resource keeps its id');
  t.deepEqual((await second.getTrace(tid(3)))[0]?.resource, c, 'a new resource gets a fresh id');
  await second.append([span({ traceId: tid(4), spanId: sid(5), service: 'a', resource: a })]);
  t.deepEqual((await second.getTrace(tid(4)))[0]?.resource, a, 'a dropped resource can come back');
});

test('data persists in the data dir across close and reopen; a closed store refuses work', async (t) => {
  const dir = tempDir(t);
  const first = await DuckDBTraceStore.open({ dataDir: dir });
  await first.append([span({ traceId: tid(7), spanId: sid(7) })]);
  await first.close();
  await t.throwsAsync(first.append([span({ traceId: tid(8), spanId: sid(8) })]), { message: /closed/ });
  await t.throwsAsync(first.getTrace(tid(7)), { message: /closed/ });
  const second = await open(t, dir);
  t.is((await second.getTrace(tid(7)))[0]?.spanId, sid(7));
});

test('bad options are named', async (t) => {
  await t.throwsAsync(DuckDBTraceStore.open({ threads: 0 }), { message: /threads must be a positive integer, got 0/ });
});
