// Export to a REAL Jaeger: the v2 binary (github.com/jaegertracing/jaeger/cmd/jaeger v1.76.0,
// built from the Go module proxy by scripts/install-jaeger.sh into .tools/jaeger/bin) runs
// with in-memory storage, its OTLP/HTTP receiver and query API on free 127.0.0.1 ports. The
// forwarder sends generated traces; Jaeger's own query API must return them with the right
// parent/child links, services, times and typed attributes, and the same structure our
// Jaeger-compatible API serves for those traces.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import type { Span } from '../../analysis/model.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import { type JaegerTrace, OtlpForwarder, startVisualizationServer } from '../../visualization/index.ts';
import { freePorts } from '../support/ports.ts';
import { startProcess, waitFor } from '../support/process.ts';

const JAEGER = join(process.cwd(), '.tools', 'jaeger', 'bin', 'jaeger');

// Jaeger v2 is an OpenTelemetry Collector distribution configured by YAML: an OTLP receiver,
// the jaeger_storage exporter into a memory backend, and the jaeger_query extension (HTTP API
// + gRPC). Internal metrics are off so nothing binds a fixed port.
function jaegerConfig(p: { otlpHttp: number; queryHttp: number; queryGrpc: number }): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${p.queryHttp}
    grpc:
      endpoint: 127.0.0.1:${p.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${p.otlpHttp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

interface Core {
  spanID: string;
  parent: string | null;
  operationName: string;
  service: string;
  startTime: number;
  duration: number;
}
const core = (t: JaegerTrace): Core[] =>
  t.spans
    .map((s) => ({
      spanID: s.spanID,
      parent: s.references.find((r) => r.refType === 'CHILD_OF')?.spanID ?? null,
      operationName: s.operationName,
      service: t.processes[s.processID]?.serviceName ?? '?',
      startTime: s.startTime,
      duration: s.duration,
    }))
    .sort((a, b) => a.spanID.localeCompare(b.spanID));

test('generated traces exported to a real Jaeger come back with links, services and typed attributes', async (t) => {
  t.timeout(90_000);
  if (!existsSync(JAEGER)) {
    t.fail(`${JAEGER} is missing: run scripts/install-jaeger.sh (npm run setup does) to build Jaeger v1.76.0`);
    return;
  }
  const [otlpHttp, queryHttp, queryGrpc] = (await freePorts(3)) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-jaeger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'jaeger.yaml');
  writeFileSync(config, jaegerConfig({ otlpHttp, queryHttp, queryGrpc }));
  const jaeger = startProcess(t, JAEGER, ['--config', config]);
  const query = `http://127.0.0.1:${queryHttp}`;
  await waitFor(
    'Jaeger query API',
    async () => {
      if (jaeger.child.exitCode !== null) throw new Error(`jaeger exited:\n${jaeger.output().slice(-3000)}`);
      return (await fetch(`${query}/api/services`)).ok;
    },
    60_000,
    200,
  );

  // Attributes of every OTLP type on every span (the generator leaves most empty).
  const workload = generateWorkload(defaultWorkloadOptions(12, 8));
  const spans: Span[] = workload.spans.map((s, i) => ({
    ...s,
    attributes: {
      ...s.attributes,
      'meshtrace.index': i,
      'meshtrace.ratio': 0.5,
      'meshtrace.synthetic': true,
      'meshtrace.tag': `t${i}`,
    },
  }));
  const fwd = new OtlpForwarder({ endpoint: `http://127.0.0.1:${otlpHttp}/v1/traces`, maxBatchSpans: 100 });
  fwd.offer(spans);
  await fwd.flush();
  t.is(fwd.stats().sentSpans, spans.length, JSON.stringify(fwd.stats()));

  const traceIds = [...new Set(spans.map((s) => s.traceId))];
  const fromJaeger = new Map<string, JaegerTrace>();
  for (const id of traceIds) {
    const expected = spans.filter((s) => s.traceId === id).length;
    const trace = await waitFor(
      `trace ${id} in Jaeger`,
      async () => {
        const res = await fetch(`${query}/api/traces/${id}`);
        if (!res.ok) return null;
        const body = (await res.json()) as { data: JaegerTrace[] };
        const tr = body.data[0];
        return tr && tr.spans.length === expected ? tr : null;
      },
      20_000,
      200,
    );
    fromJaeger.set(id, trace);
  }

  const services = ((await (await fetch(`${query}/api/services`)).json()) as { data: string[] }).data;
  t.deepEqual(services.filter((s) => s !== 'jaeger').sort(), [...new Set(spans.map((s) => s.service))].sort());

  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (const [id, trace] of fromJaeger) {
    for (const js of trace.spans) {
      const s = byId.get(js.spanID);
      if (!s) return t.fail(`Jaeger has a span we did not send: ${js.spanID}`);
      const parent = js.references.find((r) => r.refType === 'CHILD_OF');
      t.is(parent?.spanID ?? null, s.parentSpanId, `parent of ${s.spanId} in ${id}`);
      t.is(trace.processes[js.processID]?.serviceName, s.service);
      t.is(js.operationName, s.name);
      t.is(js.startTime, s.startUs);
      t.is(js.duration, s.endUs - s.startUs);
      const tag = (k: string) => js.tags.find((g) => g.key === k);
      t.like(tag('meshtrace.index'), { type: 'int64', value: s.attributes['meshtrace.index'] });
      t.like(tag('meshtrace.ratio'), { type: 'float64', value: 0.5 });
      t.like(tag('meshtrace.synthetic'), { type: 'bool', value: true });
      t.like(tag('meshtrace.tag'), { type: 'string', value: s.attributes['meshtrace.tag'] });
      if (s.status === 'error') t.like(tag('error'), { type: 'bool', value: true });
      const host = trace.processes[js.processID]?.tags.find((g) => g.key === 'host.name');
      t.is(host?.value, s.resource['host.name'] as string);
    }
  }

  // Our Jaeger-compatible API serves the same structure for the same spans.
  const store = await openDuckDBStore();
  await store.append(spans);
  const ours = await startVisualizationServer({ reader: store });
  t.teardown(async () => {
    await ours.close();
    await store.close();
  });
  for (const [id, trace] of fromJaeger) {
    const body = (await (await fetch(`${ours.url}/api/traces/${id}`)).json()) as { data: JaegerTrace[] };
    t.deepEqual(core(body.data[0]!), core(trace), `trace ${id}: our API vs Jaeger's`);
  }
});
