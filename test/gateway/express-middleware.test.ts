// The plain Express middleware: a real Express app in front of real upstreams, spans to a real
// OTLP receiver.
import { request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { ConfigError } from '../../core/sampling/index.ts';
import { createMeshtrace } from '../../gateway-plugins/express/index.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './otlp-receiver.ts';

// express ships no types here (no @types/express); the few calls used are declared.
interface ExpressApp {
  use(...handlers: unknown[]): void;
  listen(port: number, host: string, cb: () => void): Server;
}
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

async function listen(t: { teardown(fn: () => unknown): void }, app: ExpressApp): Promise<string> {
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The middleware keeping every request, exporting to `otlpUrl` every 100 ms; shut down after the test. */
function keepAll(t: { teardown(fn: () => unknown): void }, otlpUrl: string) {
  const mt = createMeshtrace({
    service_name: 'express-edge',
    otlp_url: otlpUrl,
    export: { flush_interval_ms: 100 },
    sampling: { probability: 1 },
  });
  t.teardown(() => mt.shutdown());
  return mt;
}

test('Express middleware: headers upstream, two attempt spans on failover, timeout ends in error', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const up = await startUpstream(t, () => ({ body: 'ok-from-up' }));
  const slow = await startUpstream(t, () => ({ delayMs: 1500 }));
  const dead = await freePort();
  const mt = keepAll(t, receiver.url);
  const app = express();
  app.use(mt.trace({ consumer: (req) => ({ id: String(req.headers['x-consumer'] ?? 'anon'), type: 'user' }) }));
  app.use(
    '/api',
    mt.loadBalancer({ endpoints: [`http://127.0.0.1:${dead}`, `http://127.0.0.1:${up.port}`], retries: 2 }),
  );
  app.use(
    '/slow',
    mt.loadBalancer({ endpoints: [`http://127.0.0.1:${slow.port}`], retries: 0, attempt_timeout_ms: 200 }),
  );
  const base = await listen(t, app);

  const res = await fetch(`${base}/api/things?q=1`, { headers: { 'x-consumer': 'app-42', cookie: 'session=secret' } });
  t.is(res.status, 200);
  t.is(await res.text(), 'ok-from-up');
  t.is(up.received[0]?.url, '/api/things?q=1');
  const tp = String(up.received[0]?.headers['traceparent']);
  t.regex(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/, 'sampled + random');
  t.is(up.received[0]?.headers['tracestate'], 'ot=th:0', "the sampler's threshold travels with a kept request");
  const traceId = tp.split('-')[1]!;
  const spans = (
    await receiver.waitForSpans('3 spans', (s) => s.filter((x) => x.traceId === traceId).length >= 3)
  ).filter((s) => s.traceId === traceId);
  const server = spans.find((s) => s.kind === 'server')!;
  const attempts = spans.filter((s) => s.kind === 'client');
  t.is(attempts.length, 2);
  t.deepEqual(
    attempts.map((a) => [a.attributes['meshtrace.attempt'], a.attributes['meshtrace.attempt.outcome']]).sort(),
    [
      [1, 'connect_error'],
      [2, 'ok'],
    ],
  );
  t.true(attempts.every((a) => a.parentSpanId === server.spanId));
  t.is(tp.split('-')[2], attempts.find((a) => a.attributes['meshtrace.attempt'] === 2)?.spanId);
  t.is(server.attributes['eg.consumer.id'], 'app-42');
  t.is(server.attributes['meshtrace.sampling.kept_by'], 'probability');
  t.is(server.traceState, 'ot=th:0');
  t.false(JSON.stringify(spans).includes('session=secret'));

  const to = await fetch(`${base}/slow/x`);
  t.is(to.status, 504);
  const toTrace = to.headers.get('traceresponse')!.split('-')[1]!;
  const [toServer] = (
    await receiver.waitForSpans('timeout span', (s) => s.some((x) => x.traceId === toTrace && x.kind === 'server'))
  ).filter((s) => s.traceId === toTrace && s.kind === 'server');
  t.is(toServer?.status, 'error');
  t.is(toServer?.attributes['error.type'], 'timeout');
});

test('Express middleware: bad settings throw naming the field', (t) => {
  const err = t.throws(
    () => createMeshtrace({ otlp_url: 'http://x/v1/traces', sampling: { latency: { threshold_ms: -1 } } }),
    {
      instanceOf: ConfigError,
    },
  );
  t.is(err.message, 'meshtrace.sampling.latency.threshold_ms: must be ≥ 0');
  const mt = createMeshtrace({ otlp_url: 'http://127.0.0.1:1/v1/traces' });
  t.teardown(() => mt.shutdown());
  t.throws(() => mt.loadBalancer({ endpoints: [], strategy: 'random' }), {
    message:
      /meshtrace\.load_balancer\.endpoints: must NOT have fewer than 1 items\nmeshtrace\.load_balancer\.strategy: must be one of round-robin, least-pending/,
  });
});

// The end of a response is seen through Node's response-finish channel, and a reset through its
// connection's close (request-trace.ts): a client gone mid-request still ends its span — as a
// reset, its running attempt cancelled — and the requests that follow on other connections and
// on a kept-alive one each end once.
test('Express middleware: a client that goes away mid-request ends its span as a reset', async (t) => {
  const receiver = await startOtlpReceiver(t);
  const slow = await startUpstream(t, () => ({ delayMs: 1500, body: 'late' }));
  const up = await startUpstream(t, () => ({ body: 'ok' }));
  const mt = keepAll(t, receiver.url);
  const app = express();
  app.use(mt.trace());
  app.use('/hang', mt.loadBalancer({ endpoints: [`http://127.0.0.1:${slow.port}`], retries: 0 }));
  app.use('/api', mt.loadBalancer({ endpoints: [`http://127.0.0.1:${up.port}`], retries: 0 }));
  const base = new URL(await listen(t, app));

  await new Promise<void>((resolve) => {
    const req = httpRequest({ host: base.hostname, port: base.port, path: '/hang/x', agent: false });
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => req.destroy(), 200);
  });
  const hung = await receiver.waitForSpans('the reset request', (s) =>
    s.some((x) => x.kind === 'server' && x.attributes['url.path'] === '/hang/x'),
  );
  const server = hung.find((x) => x.kind === 'server' && x.attributes['url.path'] === '/hang/x')!;
  t.is(server.status, 'error');
  t.is(server.attributes['error.type'], 'reset');
  t.is(server.attributes['http.response.status_code'], undefined, 'no status was ever sent');
  const attempt = hung.find((x) => x.kind === 'client' && x.parentSpanId === server.spanId);
  t.is(attempt?.attributes['meshtrace.attempt.outcome'], 'cancelled');

  // Three requests on one kept-alive connection (fetch pools it): three server spans, each once.
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${base.origin}/api/${i}`);
    t.is(await res.text(), 'ok');
    ids.push(res.headers.get('traceresponse')!.split('-')[1]!);
  }
  const after = await receiver.waitForSpans('three server spans', (s) =>
    ids.every((id) => s.some((x) => x.traceId === id && x.kind === 'server')),
  );
  for (const id of ids) {
    const servers = after.filter((x) => x.traceId === id && x.kind === 'server');
    t.is(servers.length, 1, `trace ${id}: one server span`);
    t.is(servers[0]?.attributes['http.response.status_code'], 200);
  }
  t.is(after.filter((x) => x.kind === 'server' && x.attributes['url.path'] === '/hang/x').length, 1);
});
