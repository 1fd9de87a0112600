// `meshtrace collector` as a user runs it: a real process, the official exporter sending to it,
// a graceful SIGTERM that drains into the store, the data readable from the data dir afterwards;
// bad flags named with exit code 2. Plus the flag parsers as tables, and retention on a schedule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { DuckDBTraceStore } from '../../analysis/store/duckdb-store.ts';
import { parseCollectorArgs, parseDuration, parseSize } from '../../cli/commands/collector.ts';
import { freePorts } from '../support/ports.ts';
import { startProcess, waitFor } from '../support/process.ts';
import { hexTrace, post, protoRequest, startTestCollector, validSpans } from './collector-support.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('meshtrace collector: exporter → process → SIGTERM drains → spans readable from the data dir', async (t) => {
  const dataDir = tempDir(t);
  const [http, grpc] = (await freePorts(2)) as [number, number];
  const proc = startProcess(t, process.execPath, [
    '--import=tsx',
    'cli/main.ts',
    'collector',
    '--data-dir',
    dataDir,
    '--http-port',
    String(http),
    '--grpc-port',
    String(grpc),
  ]);
  await waitFor('collector to listen', () => proc.output().includes('meshtrace collector listening'), 30_000);
  t.regex(proc.output(), new RegExp(`OTLP/HTTP http://127.0.0.1:${http}/v1/traces, OTLP/gRPC 127.0.0.1:${grpc}`));

  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'cli-test' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${http}/v1/traces` }))],
  });
  const span = provider.getTracer('t').startSpan('hello');
  span.end();
  await provider.shutdown();

  await proc.stop('SIGTERM');
  t.is(await proc.exited, 0, proc.output());
  t.regex(proc.output(), /accepted 1, rejected 0, refused 0, stored 1, lost 0 span\(s\)/);

  const store = await DuckDBTraceStore.open({ dataDir });
  t.teardown(() => store.close());
  const [stored] = await store.getTrace(span.spanContext().traceId);
  t.like(stored, { name: 'hello', service: 'cli-test', spanId: span.spanContext().spanId });
});

test('meshtrace collector: a bad flag is named, exit code 2', async (t) => {
  const proc = startProcess(t, process.execPath, [
    '--import=tsx',
    'cli/main.ts',
    'collector',
    '--data-dir',
    '/tmp/x',
    '--http-port',
    '99999',
  ]);
  t.is(await proc.exited, 2);
  t.regex(proc.output(), /meshtrace collector: --http-port: '99999' is not a port \(0-65535 or "off"\)/);
  t.regex(proc.output(), /usage: meshtrace collector --data-dir DIR/);
});

test('bad flags: each names what is wrong', (t) => {
  const cases: [string, string[], RegExp][] = [
    ['no data dir', [], /--data-dir is required/],
    ['bad grpc port', ['--data-dir', 'd', '--grpc-port', 'x'], /--grpc-port: 'x' is not a port/],
    ['bad size', ['--data-dir', 'd', '--max-request-bytes', 'lots'], /--max-request-bytes: 'lots' is not a size/],
    ['bad queue', ['--data-dir', 'd', '--queue-spans', '0'], /--queue-spans: '0' is not a positive integer/],
    ['bad age', ['--data-dir', 'd', '--retention-max-age', 'soon'], /--retention-max-age: 'soon' is not a duration/],
    ['unknown flag', ['--data-dir', 'd', '--verbose'], /Unknown option '--verbose'/],
    [
      'link threshold out of range',
      ['--data-dir', 'd', '--link-threshold', '2'],
      /--link-threshold: '2' is not within \[0.5, 1\]/,
    ],
    [
      'linking off and a threshold',
      ['--data-dir', 'd', '--no-linking', '--link-threshold', '0.9'],
      /--link-threshold and --no-linking contradict each other/,
    ],
  ];
  for (const [name, args, message] of cases) t.throws(() => parseCollectorArgs(args), { message }, name);
});

test('linking flags: off, or a threshold; default on', (t) => {
  t.is(parseCollectorArgs(['--data-dir', 'd']).linking, undefined);
  t.is(parseCollectorArgs(['--data-dir', 'd', '--no-linking']).linking, false);
  t.deepEqual(parseCollectorArgs(['--data-dir', 'd', '--link-threshold', '0.98']).linking, { threshold: 0.98 });
});

test('flag parsers: sizes, durations, ports, retention', (t) => {
  t.is(parseSize('--x', '4MiB'), 4 * 1024 * 1024);
  t.is(parseSize('--x', '10GB'), 10e9);
  t.is(parseSize('--x', '512'), 512);
  t.throws(() => parseSize('--x', '4 parsecs'), { message: /--x: '4 parsecs' is not a size/ });
  t.is(parseDuration('--y', '7d'), 7 * 86_400_000);
  t.is(parseDuration('--y', '90s'), 90_000);
  t.throws(() => parseDuration('--y', '7'), { message: /--y: '7' is not a duration/ });
  t.deepEqual(
    parseCollectorArgs([
      '--data-dir',
      'd',
      '--http-port',
      'off',
      '--grpc-port',
      '0',
      '--retention-max-age',
      '12h',
      '--retention-max-bytes',
      '1GiB',
      '--queue-spans',
      '500',
      '--max-in-flight-bytes',
      '8MiB',
    ]),
    {
      dataDir: 'd',
      httpPort: false,
      grpcPort: 0,
      queueCapacitySpans: 500,
      maxInFlightBytes: 8 * 1024 * 1024,
      retention: { maxAgeMs: 12 * 3_600_000, maxBytes: 1024 ** 3 },
    },
  );
});

test('retention runs on its schedule inside the collector', async (t) => {
  const c = await startTestCollector(t, { retention: { maxAgeMs: 60_000, intervalMs: 100 } });
  // validSpans() are from 2023: far older than a minute
  t.is(
    (await post(c.httpPort as number, protoRequest(validSpans(3, 5)), { 'Content-Type': 'application/x-protobuf' }))
      .status,
    200,
  );
  await c.flush();
  await waitFor('retention to delete the old trace', () => c.stats().retention.deletedTraces >= 1, 10_000);
  t.deepEqual(await c.store.getTrace(hexTrace(5)), []);
  t.like(c.stats().retention, { deletedTraces: 1, deletedSpans: 3, errors: 0 });
});

test('collector options are validated with the field named', async (t) => {
  const { startCollector } = await import('../../analysis/collector/collector.ts');
  await t.throwsAsync(startCollector({}), { message: /dataDir is required/ });
  await t.throwsAsync(startCollector({ dataDir: 'x', maxRequestBytes: -1 }), {
    message: /maxRequestBytes must be a positive integer, got -1/,
  });
  await t.throwsAsync(startCollector({ dataDir: 'x', httpPort: false, grpcPort: false }), { message: /both false/ });
  await t.throwsAsync(startCollector({ dataDir: 'x', spanLimits: { maxThings: 3 } as never }), {
    message: /spanLimits.maxThings is unknown/,
  });
});
