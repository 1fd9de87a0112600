// Tracing never fails or slows a request: with the collector down or hanging, requests through
// the middleware all succeed, and the spans that cannot be exported are dropped and counted.
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createMeshtrace } from '../../gateway-plugins/express/index.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';

interface ExpressApp {
  use(...handlers: unknown[]): void;
  listen(port: number, host: string, cb: () => void): Server;
}
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

async function gatewayTo(
  t: { teardown(fn: () => unknown): void },
  otlpUrl: string,
  upstreamPort: number,
  exportTimeoutMs = 300,
) {
  const mt = createMeshtrace({
    otlp_url: otlpUrl,
    export: { flush_interval_ms: 50, max_queue_size: 8, max_batch_size: 4, timeout_ms: exportTimeoutMs },
    sampling: { probability: 1 },
  });
  const app = express();
  app.use(mt.trace());
  app.use(mt.loadBalancer({ endpoints: [`http://127.0.0.1:${upstreamPort}`] }));
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  t.teardown(async () => {
    server.closeAllConnections();
    server.close();
    await mt.shutdown().catch(() => undefined);
  });
  return { mt, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function burst(url: string, n: number): Promise<{ statuses: number[]; latenciesMs: number[] }> {
  const statuses: number[] = [];
  const latenciesMs: number[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const t0 = performance.now();
        const status = (await fetch(`${url}/x`)).status;
        latenciesMs.push(performance.now() - t0);
        return status;
      }),
    );
    statuses.push(...batch);
  }
  return { statuses, latenciesMs };
}

test('collector down: every request succeeds, failed exports are counted', async (t) => {
  const up = await startUpstream(t);
  const { mt, url } = await gatewayTo(t, `http://127.0.0.1:${await freePort()}/v1/traces`, up.port);
  const { statuses } = await burst(url, 60);
  t.true(
    statuses.every((s) => s === 200),
    `statuses: ${statuses.join(',')}`,
  );
  const c = await waitFor('export failures to be counted', () => {
    const now = mt.tracer.tracing.counters().export;
    // 60 requests × (SERVER span + one attempt span)
    return now.failed + now.queueFull === 120 ? now : null;
  });
  t.is(c.exported, 0);
  t.true(c.queueFull > 0, 'the bound was reached and counted');
  t.is(c.inFlight, 0, 'nothing left held once the exports failed');
});

test('collector hanging for 5 s: requests are not held up, spans past the queue bound are dropped', async (t) => {
  const hanging = createServer(() => {
    // accepts and never answers
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    hanging.closeAllConnections();
    hanging.close();
  });
  const up = await startUpstream(t);
  const { mt, url } = await gatewayTo(
    t,
    `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/traces`,
    up.port,
  );
  const { statuses, latenciesMs } = await burst(url, 60);
  t.true(statuses.every((s) => s === 200));
  // A request that waited for its export would take the 5 s export timeout; on a loaded
  // machine a local request takes tens to hundreds of ms, so half of 5 s separates the two.
  const median = [...latenciesMs].sort((a, b) => a - b)[latenciesMs.length >> 1]!;
  t.true(median < 2500, `median request latency ${median.toFixed(1)} ms`);
  const c = await waitFor('drops to be counted', () => {
    const now = mt.tracer.tracing.counters().export;
    return now.queueFull > 0 ? now : null;
  });
  t.true(c.inFlight <= 8);
  t.is(c.exported, 0);
  // Let the stuck exports fail now rather than at their 5 s timeout during teardown.
  hanging.closeAllConnections();
});
