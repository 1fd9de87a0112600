// Fail-open, proven with real processes: Envoy (failure_mode_allow) in front of a real upstream,
// `meshtrace ext-proc` killed with SIGKILL mid-load and restarted on the same port.
import { createServer } from 'node:http';
import test from 'ava';
import { extProcFilter } from '../../ext-authz/envoy-config.ts';
import { grpcCluster } from '../../mesh-config/envoy/ext-service.ts';
import { proxyBootstrap, startEnvoy } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { type ServiceProcess, startServiceProcess, writeConfig } from './support/service.ts';

test('service killed mid-load: every request still succeeds, and spans resume after restart', async (t) => {
  const otlp = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const grpcPort = await freePort();
  const config = writeConfig({ listen: { port: grpcPort }, otlp: { endpoint: otlp.url, scheduledDelayMs: 50 } });
  let svc: ServiceProcess = await startServiceProcess(t, 'ext-proc', config);
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [extProcFilter({ cluster: 'meshtrace_ext', timeout: '0.5s' })],
      extraClusters: [grpcCluster('meshtrace_ext', '127.0.0.1', grpcPort)],
    }),
  );

  let phase = 'before';
  const statuses = new Map<number, number>();
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const res = await fetch(`http://127.0.0.1:${listenPort}/${phase}/${w}/${i}`);
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  await waitFor('spans before the kill', () =>
    otlp.spans.some((s) => String(s.attributes['url.path']).startsWith('/before/')),
  );

  await svc.process.stop('SIGKILL');
  phase = 'down';
  const downFrom = upstream.received.length;
  await waitFor('requests while the service is down', () => upstream.received.length >= downFrom + 40);

  svc = await startServiceProcess(t, 'ext-proc', config);
  phase = 'after';
  const after = await waitFor(
    'spans after the restart',
    () => otlp.spans.filter((s) => String(s.attributes['url.path']).startsWith('/after/')).length >= 5 || undefined,
    15000,
  );
  running = false;
  await Promise.all(workers);

  t.true(after, 'spans resumed');
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  t.deepEqual(
    [...statuses.keys()],
    [200],
    `statuses ${JSON.stringify([...statuses])} over ${total} requests\n${envoy.logs()}`,
  );
  t.true(
    upstream.received.filter((r) => r.url.startsWith('/down/')).length >= 40,
    'load continued while the service was down',
  );
  t.is(upstream.received.length, total, 'every request reached the upstream');
  // Envoy counted the failures it failed open on.
  const stats = await envoy.stats('ext_proc');
  const failedOpen = [...stats]
    .filter(([k]) => /failure_mode_allowed|streams_failed|connection/.test(k))
    .reduce((a, [, v]) => a + v, 0);
  t.log(`${total} requests, all 200; Envoy ext_proc fail-open counters total ${failedOpen}`);
  t.true(failedOpen > 0, `Envoy ext_proc stats show fail-open: ${JSON.stringify([...stats])}`);
});

test("Envoy's message timeout (the service is slow: a JWKS fetch hangs): the request proceeds, the span still ends, as an error", async (t) => {
  // A JWKS endpoint that answers only after Envoy has given up on the service.
  let jwksHits = 0;
  const jwks = createServer((_req, res) => {
    jwksHits++;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'), 1500);
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    jwks.closeAllConnections();
    jwks.close();
  });
  const otlp = await startOtlpReceiver(t);
  const upstream = await startUpstream(t);
  const svc = await startServiceProcess(
    t,
    'ext-proc',
    writeConfig({
      listen: { port: 0 },
      otlp: { endpoint: otlp.url, scheduledDelayMs: 50 },
      enrich: {
        jwt: { jwksUrl: `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`, jwksTimeoutMs: 5000 },
      },
    }),
  );
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [extProcFilter({ cluster: 'meshtrace_ext', timeout: '0.3s' })],
      extraClusters: [grpcCluster('meshtrace_ext', '127.0.0.1', svc.port)],
    }),
  );
  const token = ['eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0', 'eyJzdWIiOiJzbG93In0', 'c2ln'].join('.');
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${listenPort}/slow-auth`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const took = Date.now() - started;
  t.is(res.status, 200, envoy.logs());
  t.true(took < 1400, `answered after Envoy's 0.3 s message timeout, not the 1.5 s JWKS delay (took ${took} ms)`);
  t.is(upstream.received.length, 1);
  t.is(jwksHits, 1);
  const stats = await envoy.stats('ext_proc');
  t.is([...stats].find(([k]) => k.endsWith('message_timeouts'))?.[1], 1, JSON.stringify([...stats]));
  const span = await waitFor(
    'the timed-out span',
    () => otlp.spans.find((s) => s.attributes['url.path'] === '/slow-auth'),
    10000,
  );
  t.is(span.statusCode, 2, 'STATUS_CODE_ERROR: no response was seen');
  t.regex(String(span.attributes['meshtrace.ext.end_reason']), /^(cancelled|stream_end)$/);
  t.false(Buffer.concat(otlp.raw).toString('latin1').includes(token));
});
