// Plugin configuration through real Envoy: a bad config is refused at on_configure, Envoy
// refuses to start, and its log names the field; an empty config means every default.
import test from 'ava';
import { proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { startUpstream } from '../support/upstream.ts';
import { builtFilter, envoyExit, send, traceparent } from './filter-support.ts';

const refused: { name: string; config: unknown; expected: string }[] = [
  {
    name: 'unknown outbound format',
    config: { propagation: { outbound: ['w3c', 'b4'] } },
    expected: 'meshtrace: config: propagation.outbound[1]: unknown format "b4"',
  },
  {
    name: 'unknown top-level key (typo)',
    config: { service_nmae: 'x' },
    expected: 'meshtrace: config: service_nmae: unknown key',
  },
  {
    name: 'unknown key inside propagation',
    config: { propagation: { inbond: ['w3c'] } },
    expected: 'meshtrace: config: propagation.inbond: unknown key',
  },
  {
    name: 'wrong type',
    config: { traceresponse: 'yes' },
    expected: 'meshtrace: config: traceresponse: expected a boolean, got string',
  },
  {
    name: 'format listed twice',
    config: { propagation: { inbound: ['b3', 'w3c', 'b3'] } },
    expected: 'meshtrace: config: propagation.inbound[2]: format "b3" listed twice',
  },
  {
    name: 'bad direction',
    config: { direction: 'sideways' },
    expected: 'meshtrace: config: direction: must be "inbound" or "outbound", got "sideways"',
  },
  {
    name: 'not JSON',
    config: '{"service_name": "x",',
    expected: 'meshtrace: config: not valid JSON: unexpected end of input at offset 21',
  },
];

for (const c of refused) {
  test(`bad config refused, Envoy does not start, log names the field: ${c.name}`, async (t) => {
    const { code, logs } = await envoyExit(t, c.config);
    t.not(code, 'running', `Envoy kept running with a bad config\n${logs}`);
    t.not(code, 0, logs);
    t.true(logs.includes(c.expected), `expected log line: ${c.expected}\n--- envoy ---\n${logs}`);
  });
}

test('an empty configuration means every default (w3c out, traceresponse on)', async (t) => {
  const upstream = await startUpstream(t);
  const port = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort: port,
      upstreamPorts: [upstream.port],
      httpFilters: [wasmHttpFilter(builtFilter(), '')],
    }),
  );
  const reply = await send(port, '/', [['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1']]);
  t.is(reply.status, 200, envoy.logs());
  const got = upstream.received[0]?.headers ?? {};
  t.is(traceparent(got['traceparent']).traceId, '80f198ee56343ba864fe8b2a57d3eff7');
  t.is(got['b3'], undefined, 'default outbound is w3c only; the stale b3 is removed');
  t.truthy(reply.headers['traceresponse']);
});

test('traceresponse: false leaves the response untouched', async (t) => {
  const upstream = await startUpstream(t);
  const port = await freePort();
  await startEnvoy(
    t,
    proxyBootstrap({
      listenPort: port,
      upstreamPorts: [upstream.port],
      httpFilters: [wasmHttpFilter(builtFilter(), { traceresponse: false, propagation: { outbound: ['b3multi'] } })],
    }),
  );
  const reply = await send(port, '/');
  t.is(reply.status, 200);
  t.is(reply.headers['traceresponse'], undefined);
  const got = upstream.received[0]?.headers ?? {};
  t.regex(String(got['x-b3-traceid']), /^[0-9a-f]{32}$/);
  t.regex(String(got['x-b3-spanid']), /^[0-9a-f]{16}$/);
  t.is(got['x-b3-sampled'], '1');
  t.is(got['traceparent'], undefined);
});

test('outbound jaeger + b3multi, inbound w3c only: a b3 context is not continued', async (t) => {
  const upstream = await startUpstream(t);
  const port = await freePort();
  await startEnvoy(
    t,
    proxyBootstrap({
      listenPort: port,
      upstreamPorts: [upstream.port],
      httpFilters: [
        wasmHttpFilter(builtFilter(), { propagation: { inbound: ['w3c'], outbound: ['jaeger', 'b3multi'] } }),
      ],
    }),
  );
  const w3c = await send(port, '/w3c', [['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']]);
  const b3 = await send(port, '/b3', [['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1']]);
  t.is(w3c.status, 200);
  t.is(b3.status, 200);
  const fromW3c = upstream.received.find((r) => r.url === '/w3c')?.headers ?? {};
  const fromB3 = upstream.received.find((r) => r.url === '/b3')?.headers ?? {};
  const span = traceparent(w3c.headers['traceresponse']).spanId;
  t.is(fromW3c['uber-trace-id'], `4bf92f3577b34da6a3ce929d0e0e4736:${span}:0:0`);
  t.is(fromW3c['x-b3-traceid'], '4bf92f3577b34da6a3ce929d0e0e4736');
  t.is(fromW3c['x-b3-spanid'], span);
  t.is(fromW3c['x-b3-sampled'], '0');
  t.is(fromW3c['traceparent'], undefined, 'w3c is not an outbound format here');
  // b3 is not an accepted inbound format: a new trace, and the stale b3 header is gone.
  t.not(fromB3['x-b3-traceid'], '80f198ee56343ba864fe8b2a57d3eff7');
  t.is(fromB3['b3'], undefined);
});
