// The acceptance path end to end: generated traces leave through the official OpenTelemetry
// exporters (OTLP/HTTP protobuf for half the traces, OTLP/gRPC for the other half), land in the
// real collector and its DuckDB store, are read back through StoreSpanSource, and every
// headline analysis must match the generator's ground truth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { bottlenecks } from '../../analysis/analyses/bottlenecks.ts';
import { errorOrigins } from '../../analysis/analyses/error-origin.ts';
import { regressions } from '../../analysis/analyses/regressions.ts';
import { StoreSpanSource } from '../../analysis/analyses/store-span-source.ts';
import { startCollector } from '../../analysis/collector/collector.ts';
import { toReadableSpans } from '../../analysis/generate/readable-spans.ts';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import type { Span } from '../../analysis/model.ts';

async function exportAll(exporter: SpanExporter, spans: Span[]): Promise<void> {
  const readable = toReadableSpans(spans);
  for (let i = 0; i < readable.length; i += 2000) {
    const batch = readable.slice(i, i + 2000);
    const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(batch, resolve));
    if (result.code !== 0) throw new Error(`export failed: ${result.error?.message}`);
  }
  await exporter.shutdown();
}

test('generated traces through the official OTLP/HTTP and OTLP/gRPC exporters and the collector: analyses match the ground truth', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshtrace-gt-collector-'));
  const c = await startCollector({ dataDir, httpPort: 0, grpcPort: 0 });
  t.teardown(async () => {
    await c.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const { spans, truth } = generateWorkload(defaultWorkloadOptions(1000, 424242));
  const traceIds = [...new Set(spans.map((s) => s.traceId))];
  const viaGrpc = new Set(traceIds.filter((_, i) => i % 2 === 1));
  await Promise.all([
    exportAll(
      new ProtoExporter({ url: `http://127.0.0.1:${c.httpPort}/v1/traces` }),
      spans.filter((s) => !viaGrpc.has(s.traceId)),
    ),
    exportAll(
      new GrpcExporter({ url: `http://127.0.0.1:${c.grpcPort}` }),
      spans.filter((s) => viaGrpc.has(s.traceId)),
    ),
  ]);
  await c.flush();

  const { spans: stored, problems } = await new StoreSpanSource(c.store).readSpans();
  t.deepEqual(problems, []);
  t.is(stored.length, spans.length, 'every span landed');

  const ranking = bottlenecks(stored);
  t.deepEqual(ranking.errors, []);
  t.deepEqual({ service: ranking.value[0]!.service, operation: ranking.value[0]!.operation }, truth.bottleneck!);

  const origins = new Map(errorOrigins(stored).value.map((o) => [o.traceId, o.origin?.spanId]));
  const right = truth.errors.filter((e) => origins.get(e.traceId) === e.originSpanId).length;
  t.true(truth.errors.length >= 30);
  t.true(right / truth.errors.length >= 0.99, `${right}/${truth.errors.length} error origins`);

  const rg = truth.regression!;
  const changes = regressions(stored, { by: 'version', from: rg.fromVersion, to: rg.toVersion }).changes;
  t.true(changes.some((ch) => ch.service === rg.service && ch.operation === rg.operation && ch.direction === 'slower'));
  t.false(changes.some((ch) => ch.service === truth.control!.service && ch.operation === truth.control!.operation));
});
