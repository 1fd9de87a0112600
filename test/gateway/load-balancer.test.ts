// The load balancer alone (no tracing) in front of real upstreams: strategies, failover,
// replayed bodies, and config errors naming the field.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { LoadBalancer, parseLoadBalancerConfig } from '../../gateway-plugins/shared/load-balancer.ts';
import { startUpstream } from '../support/upstream.ts';

async function front(t: { teardown(fn: () => unknown): void }, lb: LoadBalancer): Promise<string> {
  const server = createServer((req, res) => lb.handle(req, res, null));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
    lb.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('round-robin alternates; least-pending avoids an endpoint busy with a slow request', async (t) => {
  const slow = await startUpstream(t, (r) => (r.url === '/hold' ? { delayMs: 1500 } : {}));
  const fast = await startUpstream(t);
  const endpoints = [`http://127.0.0.1:${slow.port}`, `http://127.0.0.1:${fast.port}`];

  const rr = await front(t, new LoadBalancer(parseLoadBalancerConfig({ endpoints }, 'lb')));
  for (let i = 0; i < 6; i++) t.is((await fetch(`${rr}/rr`)).status, 200);
  t.deepEqual([slow.received.length, fast.received.length], [3, 3]);

  const lp = await front(t, new LoadBalancer(parseLoadBalancerConfig({ endpoints, strategy: 'least-pending' }, 'lb')));
  const held = fetch(`${lp}/hold`); // goes to the slow endpoint first (tie → first) and stays pending
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 6; i++) t.is((await fetch(`${lp}/lp`)).status, 200);
  t.is((await held).status, 200);
  t.is(slow.received.filter((r) => r.url === '/lp').length, 0, 'nothing sent to the busy endpoint');
  t.is(fast.received.filter((r) => r.url === '/lp').length, 6);
});

test('a 5xx fails over with the request body replayed; POST is not retried after a 5xx', async (t) => {
  const bad = await startUpstream(t, () => ({ status: 503 }));
  const good = await startUpstream(t, (r) => ({ body: `got ${r.body}` }));
  const lb = new LoadBalancer(
    parseLoadBalancerConfig({ endpoints: [`http://127.0.0.1:${bad.port}`, `http://127.0.0.1:${good.port}`] }, 'lb'),
  );
  const url = await front(t, lb);
  const put = await fetch(`${url}/item`, { method: 'PUT', body: 'payload-1' });
  t.is(put.status, 200);
  t.is(await put.text(), 'got payload-1');
  t.is(bad.received[0]?.body, 'payload-1');
  // round-robin continues at the second endpoint; make the next POST land on the failing one
  await fetch(`${url}/item`);
  const post = await fetch(`${url}/item`, { method: 'POST', body: 'x' });
  t.is(post.status, 503, 'a non-idempotent request that reached the upstream is not replayed');
});

test('load balancer config errors name the field', (t) => {
  const table: Array<[string, unknown, string]> = [
    ['no endpoints', {}, 'lb.endpoints: is required'],
    [
      'endpoint with a path',
      { endpoints: ['http://h:1/api'] },
      'lb.endpoints[0]: must be an http://host:port URL without a path',
    ],
    [
      'strategy',
      { endpoints: ['http://h:1'], strategy: 'random' },
      'lb.strategy: must be one of round-robin, least-pending',
    ],
    ['retries', { endpoints: ['http://h:1'], retries: 11 }, 'lb.retries: must be ≤ 10'],
    [
      'retry_on',
      { endpoints: ['http://h:1'], retry_on: ['4xx'] },
      'lb.retry_on[0]: must be one of connect_error, timeout, reset, 5xx',
    ],
    ['unknown field', { endpoints: ['http://h:1'], retry: 1 }, 'lb.retry: unknown field'],
  ];
  for (const [name, cfg, message] of table) {
    const err = t.throws(() => parseLoadBalancerConfig(cfg, 'lb'));
    t.true(err.message.includes(message), `${name}: got "${err.message}"`);
  }
});
