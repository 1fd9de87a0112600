// The OTLP forwarder against real HTTP servers: our own collector (the spans must land intact:
// parent links, attributes, times, resource), a server that fails a few times (retries with
// backoff), one that always fails (bounded attempts, drops counted), one that rejects (no
// retry), a dead port with a tiny queue (queue bound, drops counted), and bad configuration.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { startCollector } from '../../analysis/collector/collector.ts';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import { OtlpForwarder, teeStore } from '../../visualization/index.ts';
import { freePort } from '../support/ports.ts';

const workload = generateWorkload(defaultWorkloadOptions(30, 4));

async function httpServer(
  t: ExecutionContext,
  handler: (n: number, req: IncomingMessage, res: ServerResponse) => void,
) {
  let n = 0;
  const bodies: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).length);
      handler(++n, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, requests: () => n, bodies };
}

test('spans forwarded to a real OTLP/HTTP receiver arrive intact', async (t) => {
  const store = await openDuckDBStore();
  const collector = await startCollector({ store, httpPort: 0, grpcPort: false });
  t.teardown(async () => {
    await collector.close();
    await store.close();
  });
  const fwd = new OtlpForwarder({ endpoint: `http://127.0.0.1:${collector.httpPort}/v1/traces`, maxBatchSpans: 200 });
  t.is(fwd.offer(workload.spans), workload.spans.length);
  await fwd.flush();
  await collector.flush();
  const st = fwd.stats();
  t.is(st.sentSpans, workload.spans.length);
  t.is(st.requests, Math.ceil(workload.spans.length / 200));
  t.deepEqual(st.dropped, { queueFull: 0, retriesExhausted: 0, rejected: 0 });
  const sample = workload.spans.filter((s) => s.traceId === workload.spans[0]!.traceId);
  const got = await store.getTrace(sample[0]!.traceId);
  t.is(got.length, sample.length);
  const byId = new Map(got.map((s) => [s.spanId, s]));
  for (const s of sample) {
    const g = byId.get(s.spanId);
    if (!g) return t.fail(`span ${s.spanId} missing`);
    t.is(g.parentSpanId, s.parentSpanId);
    t.is(g.name, s.name);
    t.is(g.service, s.service);
    t.is(g.kind, s.kind);
    t.is(g.status, s.status);
    t.is(g.startUs, s.startUs);
    t.is(g.endUs, s.endUs);
    t.deepEqual(g.attributes, s.attributes);
    t.is(g.resource['host.name'], s.resource['host.name']);
  }
});

test('retryable failures (503) are retried with backoff until the receiver recovers', async (t) => {
  const srv = await httpServer(t, (n, _req, res) => {
    res.writeHead(n <= 2 ? 503 : 200, { 'content-type': 'application/x-protobuf' }).end();
  });
  const spans = workload.spans.slice(0, 40);
  const fwd = new OtlpForwarder({ endpoint: srv.url, initialBackoffMs: 5, maxBackoffMs: 20 });
  fwd.offer(spans);
  await fwd.flush();
  const st = fwd.stats();
  t.is(st.requests, 3);
  t.is(st.retries, 2);
  t.is(st.sentSpans, spans.length);
  t.deepEqual(new Set(srv.bodies).size, 1, 'the same request was re-sent');
  t.is(st.lastError, `${srv.url}: HTTP 503`);
});

test('attempts are bounded: a receiver that keeps failing costs maxAttempts requests, then a counted drop', async (t) => {
  const srv = await httpServer(t, (_n, _req, res) => {
    res.writeHead(429, { 'retry-after': '0' }).end();
  });
  const fwd = new OtlpForwarder({ endpoint: srv.url, maxAttempts: 3, initialBackoffMs: 5 });
  fwd.offer(workload.spans.slice(0, 10));
  await fwd.flush();
  const st = fwd.stats();
  t.is(srv.requests(), 3);
  t.is(st.dropped.retriesExhausted, 10);
  t.is(st.sentSpans, 0);
});

test('a permanent 4xx is not retried; its spans are counted as rejected', async (t) => {
  const srv = await httpServer(t, (_n, _req, res) => {
    res.writeHead(400).end();
  });
  const fwd = new OtlpForwarder({ endpoint: srv.url, initialBackoffMs: 5 });
  fwd.offer(workload.spans.slice(0, 7));
  await fwd.flush();
  t.is(srv.requests(), 1);
  t.is(fwd.stats().dropped.rejected, 7);
  t.is(fwd.stats().retries, 0);
});

test('the queue is bounded: past maxQueueSpans spans are dropped and counted, never thrown', async (t) => {
  const port = await freePort(); // nothing listens there
  const fwd = new OtlpForwarder({
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    maxQueueSpans: 10,
    maxAttempts: 2,
    initialBackoffMs: 5,
  });
  t.is(fwd.offer(workload.spans.slice(0, 25)), 10);
  await fwd.flush();
  const st = fwd.stats();
  t.is(st.dropped.queueFull, 15);
  t.is(st.dropped.retriesExhausted, 10);
  t.regex(st.lastError ?? '', /ECONNREFUSED/);
  await fwd.close();
  t.is(fwd.offer(workload.spans.slice(0, 3)), 0, 'closed forwarders take nothing');
  t.is(fwd.stats().dropped.queueFull, 18);
});

test('teeStore forwards what the store accepted', async (t) => {
  const downstream = await openDuckDBStore();
  const collector = await startCollector({ store: downstream, httpPort: 0, grpcPort: false });
  const local = await openDuckDBStore();
  t.teardown(async () => {
    await collector.close();
    await downstream.close();
    await local.close();
  });
  const fwd = new OtlpForwarder({ endpoint: `http://127.0.0.1:${collector.httpPort}/v1/traces` });
  const tee = teeStore(local, (spans) => fwd.offer(spans));
  const spans = workload.spans.slice(0, 50);
  await tee.append(spans);
  await fwd.flush();
  await collector.flush();
  t.is((await local.stats()).spans, 50);
  t.is((await downstream.stats()).spans, 50);
});

const BAD: Array<{ name: string; options: ConstructorParameters<typeof OtlpForwarder>[0]; error: RegExp }> = [
  { name: 'endpoint not a URL', options: { endpoint: 'jaeger:4318' }, error: /endpoint must be http|not a URL/ },
  { name: 'endpoint garbage', options: { endpoint: '::' }, error: /endpoint "::" is not a URL/ },
  { name: 'non-http scheme', options: { endpoint: 'ftp://127.0.0.1/x' }, error: /must be http\(s\), got ftp:/ },
  { name: 'zero queue', options: { endpoint: 'http://127.0.0.1:1/', maxQueueSpans: 0 }, error: /maxQueueSpans/ },
  {
    name: 'negative backoff',
    options: { endpoint: 'http://127.0.0.1:1/', initialBackoffMs: -1 },
    error: /initialBackoffMs/,
  },
];
for (const c of BAD) {
  test(`bad forwarder config: ${c.name}`, (t) => {
    t.throws(() => new OtlpForwarder(c.options), { message: c.error }, c.name);
  });
}
