// Fail-open, proven with real processes: Envoy (failure_mode_allow) in front of a real upstream,
// `meshtrace ext-proc` killed with SIGKILL mid-load and restarted on the same port.
import test from 'ava';
import { extProcFilter, grpcCluster } from '../../ext-authz/envoy-config.ts';
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
      extraClusters: [grpcCluster('meshtrace_ext', grpcPort)],
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
