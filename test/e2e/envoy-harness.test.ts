// Proves the harness itself: the installed Envoy 1.40 starts from a generated bootstrap and
// proxies to a real upstream. Fails (never skips) when Envoy is not installed.
import test from 'ava';
import { ENVOY_VERSION, envoyPath } from '../../core/envoy-binary.ts';
import { proxyBootstrap, startEnvoy } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';
import { execFileSync } from 'node:child_process';

test('the installed Envoy is version 1.40', (t) => {
  const out = execFileSync(envoyPath(), ['--version']).toString();
  t.regex(out, new RegExp(`/${ENVOY_VERSION.replaceAll('.', '\\.')}/`));
});

test('Envoy proxies a request to a real upstream', async (t) => {
  const upstream = await startUpstream(t, () => ({ status: 201, body: 'hello' }));
  const listenPort = await freePort();
  const envoy = await startEnvoy(t, proxyBootstrap({ listenPort, upstreamPorts: [upstream.port] }));
  const res = await fetch(`http://127.0.0.1:${listenPort}/x?y=1`, { headers: { 'x-probe': 'p' } });
  t.is(res.status, 201, envoy.logs());
  t.is(await res.text(), 'hello');
  t.is(upstream.received.length, 1);
  t.is(upstream.received[0]?.url, '/x?y=1');
  t.is(upstream.received[0]?.headers['x-probe'], 'p');
  const stats = await envoy.stats('http.ingress.downstream_rq_2xx');
  t.is(stats.get('http.ingress.downstream_rq_2xx'), 1);
});
