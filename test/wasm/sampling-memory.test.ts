// With every sampling strategy configured (debug users and tokens, regex rules, latency routes,
// a per-route cost cap over thousands of distinct paths), the BUILT filter's memory stays flat:
// the cost cap's keys are bounded (max_keys, then one shared bucket) and per-stream sampler
// state is collected. The guest time per stream is logged for the README, not asserted.
import test from 'ava';
import { signDebugToken } from '../../core/sampling/index.ts';
import { cryptoRandom, FakeClock } from '../support/proxy-wasm-host/determinism.ts';
import { loadFilter, requestHeaders } from '../support/proxy-wasm-host/filter.ts';
import type { ProxyWasmHost } from '../support/proxy-wasm-host/host.ts';

const STREAMS = 20_000;
const WARM_UP = 4_000;
const SECRET = 'memory-test-secret-0123456789abc';

function drive(host: ProxyWasmHost, clock: FakeClock, n: number, offset: number, token: string): void {
  for (let i = 0; i < n; i++) {
    const k = offset + i;
    const extra: [string, string][] = [[':path', `/items/${k}?q=1`]];
    if (k % 3 === 0) extra.push(['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']);
    if (k % 5 === 0) extra.push(['x-user', k % 10 === 0 ? 'alice' : 'bob']);
    if (k % 7 === 0) extra.push(['x-meshtrace-debug-token', token]);
    const s = host.newHttpStream();
    s.setProperty('response.code', k % 11 === 0 ? 503 : 200);
    // Replace requestHeaders' default :path with this stream's (distinct paths = distinct cap keys).
    s.callOnRequestHeaders(
      requestHeaders(extra).filter(([n, v]) => n !== ':path' || v !== '/orders/42'),
      true,
    );
    s.callOnResponseHeaders({ ':status': k % 11 === 0 ? '503' : '200' }, true);
    s.complete();
    clock.advance(1);
  }
}

test(`memory stays flat over ${STREAMS} streams with every strategy on`, async (t) => {
  const clock = new FakeClock();
  const { host, configured } = await loadFilter(
    {
      sampling: {
        probability: 0.3,
        latency: { threshold_ms: 500, routes: [{ path_prefix: '/items/1', threshold_ms: 100 }] },
        debug: { user_header: 'x-user', users: ['alice'] },
        rules: [
          { match: { path_regex: '^/items/\\d+7$' }, action: 'always' },
          { match: { path_prefix: '/items/9', method: ['GET', 'HEAD'] }, action: 'rate', rate: 0.1 },
        ],
        cost_cap: { per_second: 50, burst: 10, max_keys: 64 },
        trust: { boundary: 'edge', debug_token: { keys: [{ id: 'k1', secret: SECRET }] } },
      },
    },
    { random: cryptoRandom, clock },
  );
  t.true(configured, host.logMessages().join('\n'));
  const token = signDebugToken('k1', SECRET, Number(clock.realtimeNs() / 1_000_000_000n) + 3000, 'mem');
  drive(host, clock, WARM_UP, 0, token);
  const afterWarmUp = host.memoryBytes();
  const started = process.hrtime.bigint();
  drive(host, clock, STREAMS, WARM_UP, token);
  const usPerStream = Number(process.hrtime.bigint() - started) / 1000 / STREAMS;
  const after = host.memoryBytes();
  t.is(host.metric('meshtrace.requests'), WARM_UP + STREAMS);
  t.true((host.metric('meshtrace.sampling_dropped.cost_cap') ?? 0) > 0, 'the cap refused some keeps');
  t.true((host.metric('meshtrace.sampled.debug') ?? 0) > 0, 'debug keeps happened');
  t.is(after, afterWarmUp, `linear memory grew from ${afterWarmUp / 65536} to ${after / 65536} pages`);
  t.log(
    `linear memory: ${afterWarmUp / 65536} pages flat; ${usPerStream.toFixed(1)} µs per stream in the TS host (whole stream, host included)`,
  );
});
