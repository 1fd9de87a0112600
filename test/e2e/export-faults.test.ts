// Collector faults never reach the request path (real Envoy 1.40, real receiver): with the
// collector down, answering after 5 s, or answering 500, every upstream request succeeds, no
// request waits on export (each answered well under the 5 s the slow collector takes), and the
// dropped spans are counted by reason in Envoy's stats.
import test, { type ExecutionContext } from 'ava';
import { localCluster, proxyBootstrap, startEnvoy, wasmHttpFilter } from '../support/envoy.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';
import { startOtlpReceiver } from './export-receiver.ts';
import { builtFilter, send } from './filter-support.ts';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const REQUESTS = 40;
// Far below the slow collector's 5 s: a request that waited on export could not finish in it.
const REQUEST_BOUND_MS = 2000;

async function run(t: ExecutionContext, collectorPort: number, exportConfig: Record<string, unknown> = {}) {
  const upstream = await startUpstream(t, () => ({ body: 'ok' }));
  const listenPort = await freePort();
  const envoy = await startEnvoy(
    t,
    proxyBootstrap({
      listenPort,
      upstreamPorts: [upstream.port],
      httpFilters: [
        wasmHttpFilter(builtFilter(), {
          export: {
            cluster: 'otlp',
            batch_size: 5,
            queue_size: 10,
            max_in_flight: 2,
            flush_interval_ms: 100,
            ...exportConfig,
          },
        }),
      ],
      extraClusters: [localCluster('otlp', [collectorPort], { connect_timeout: '0.25s' })],
    }),
  );
  const slowest: number[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    statuses.push((await send(listenPort, `/r/${i}`, [['traceparent', PARENT]])).status);
    slowest.push(performance.now() - started);
  }
  t.deepEqual(statuses, new Array(REQUESTS).fill(200), 'every request succeeded');
  t.is(upstream.received.length, REQUESTS);
  const max = Math.max(...slowest);
  t.true(max < REQUEST_BOUND_MS, `slowest request took ${max.toFixed(0)} ms`);
  return { envoy, listenPort };
}

async function dropped(envoy: Awaited<ReturnType<typeof run>>['envoy']) {
  const s = await envoy.stats('meshtrace.export');
  const get = (k: string) => s.get(`wasmcustom.meshtrace.export.${k}`) ?? 0;
  return {
    exported: get('spans_exported'),
    queueFull: get('spans_dropped.queue_full'),
    error: get('spans_dropped.collector_error'),
    timeout: get('spans_dropped.collector_timeout'),
    all: [...s].join('\n'),
  };
}

test('collector down: requests unaffected, spans dropped as collector_error', async (t) => {
  const nobody = await freePort(); // nothing listens there
  const { envoy } = await run(t, nobody);
  let d = await dropped(envoy);
  await waitFor(
    'failed exports to be counted',
    async () => {
      d = await dropped(envoy);
      return d.error >= 5;
    },
    10000,
  );
  t.is(d.exported, 0, d.all);
  // Every span is accounted for: failed batches, a full queue, or still waiting.
  t.true(d.error + d.queueFull <= REQUESTS && d.error + d.queueFull >= REQUESTS - 10, d.all);
  t.regex(envoy.logs(), /meshtrace: export: collector answered 503/);
});

test('collector slow (5 s): requests unaffected, spans dropped as collector_timeout and queue_full', async (t) => {
  const receiver = await startOtlpReceiver(t);
  receiver.behaviour = { status: 200, delayMs: 5000 };
  const { envoy } = await run(t, receiver.port, { timeout_ms: 1000 });
  let d = await dropped(envoy);
  await waitFor(
    'timed-out exports to be counted',
    async () => {
      d = await dropped(envoy);
      return d.timeout >= 10;
    },
    10000,
  );
  // Every span is accounted for: timed out, refused by the full queue, or at most two batches
  // in flight plus a full queue still waiting.
  t.true(d.timeout + d.queueFull <= REQUESTS && d.timeout + d.queueFull >= REQUESTS - 20, d.all);
  t.is(d.error, 0, d.all);
  t.is(d.exported, 0, d.all);
});

test('collector answering 500: requests unaffected, spans dropped as collector_error', async (t) => {
  const receiver = await startOtlpReceiver(t);
  receiver.behaviour = { status: 500, delayMs: 0 };
  const { envoy, listenPort } = await run(t, receiver.port);
  let d = await dropped(envoy);
  await waitFor(
    'every span dropped or exported',
    async () => {
      d = await dropped(envoy);
      return d.error + d.queueFull === REQUESTS;
    },
    10000,
  );
  t.true(d.error >= 5, d.all);
  t.is(d.exported, 0, d.all);
  t.regex(envoy.logs(), /meshtrace: export: collector answered 500/);

  // The collector recovers: later spans are exported again (nothing stuck, no backlog replayed).
  receiver.behaviour = { status: 200, delayMs: 0 };
  for (let i = 0; i < 5; i++) t.is((await send(listenPort, `/after/${i}`, [['traceparent', PARENT]])).status, 200);
  await waitFor('the next batch exported', async () => (await dropped(envoy)).exported === 5, 10000);
  t.deepEqual(receiver.spans.map((s) => s.attributes['url.path']).sort(), [
    '/after/0',
    '/after/1',
    '/after/2',
    '/after/3',
    '/after/4',
  ]);
});
