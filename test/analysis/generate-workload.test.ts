import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import test from 'ava';
import { FileSpanSource } from '../../analysis/analyses/span-source.ts';
import { Prng } from '../../analysis/generate/prng.ts';
import { toReadableSpans } from '../../analysis/generate/readable-spans.ts';
import { defaultTopology, validateTopology } from '../../analysis/generate/topology.ts';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import { SPANS_FILE, TRUTH_FILE, writeWorkload } from '../../analysis/generate/workload-files.ts';
import { startUpstream } from '../support/upstream.ts';

const tempDir = (t: { teardown(fn: () => void): void }) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-gen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('the PRNG is deterministic per seed and different across seeds', (t) => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const xs = Array.from({ length: 5 }, () => a.uint32());
  t.deepEqual(
    Array.from({ length: 5 }, () => b.uint32()),
    xs,
  );
  t.notDeepEqual(
    Array.from({ length: 5 }, () => c.uint32()),
    xs,
  );
  const u = Array.from({ length: 10_000 }, () => a.next());
  const mean = u.reduce((x, y) => x + y, 0) / u.length;
  t.true(Math.abs(mean - 0.5) < 0.02 && u.every((x) => x >= 0 && x < 1));
});

test('the same seed generates the same workload; another seed a different one', (t) => {
  const a = generateWorkload(defaultWorkloadOptions(200, 7));
  const b = generateWorkload(defaultWorkloadOptions(200, 7));
  const c = generateWorkload(defaultWorkloadOptions(200, 8));
  t.deepEqual(a, b);
  t.notDeepEqual(a.spans[0]!.traceId, c.spans[0]!.traceId);
  t.is(a.truth.spans, a.spans.length);
  t.is(new Set(a.spans.map((s) => s.traceId)).size, 200);
});

test('generated traces have skewed clocks, async children outliving the request and fan-out', (t) => {
  const { spans, truth } = generateWorkload(defaultWorkloadOptions(300, 3));
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  // Payments' host runs 15 ms ahead: its server spans stick out of the client spans that called them.
  const payments = spans.filter((s) => s.service === 'payments' && s.kind === 'server');
  t.true(truth.clockSkewUs['payments-0'] === 15_000);
  t.true(
    payments.every((s) => s.endUs > byId.get(s.parentSpanId!)!.endUs),
    'skew is visible in every trace',
  );
  // Email consumers run after the request has finished (fire-and-forget).
  const roots = new Map(spans.filter((s) => s.parentSpanId === null).map((s) => [s.traceId, s]));
  const late = spans.filter((s) => s.kind === 'consumer' && s.endUs > roots.get(s.traceId)!.endUs);
  t.true(late.length > 250, `${late.length} consumers outlive their request`);
  // Inventory is called three times in parallel per checkout.
  t.is(spans.filter((s) => s.service === 'inventory').length, 3 * 300);
  // Versions: the regressed service reports the old and the new one.
  t.deepEqual(
    [...new Set(spans.filter((s) => s.service === 'catalog').map((s) => s.resource['service.version']))].sort(),
    ['1.4.0', '1.5.0'],
  );
});

test('bad generator input is rejected with what is wrong and where', (t) => {
  const topo = defaultTopology();
  topo.operations['checkout/place']!.calls!.push({ to: 'nowhere/op', mode: 'sequential' });
  t.deepEqual(validateTopology(topo), ['operations["checkout/place"].calls[3]: operation "nowhere/op" is not defined']);
  const loop = defaultTopology();
  loop.operations['bank/authorize']!.calls = [{ to: 'payments/charge', mode: 'sequential' }];
  t.regex(validateTopology(loop).join(), /call cycle: .*payments\/charge → bank\/authorize → payments\/charge/);
  t.throws(() => generateWorkload({ ...defaultWorkloadOptions(10, 1), topology: topo }), {
    message: /invalid topology: .*nowhere\/op/,
  });
  t.throws(() => generateWorkload({ ...defaultWorkloadOptions(10, 1), slow: { operation: 'x/y', extraUs: 1 } }), {
    message: /slow\.operation: operation "x\/y" is not in the topology/,
  });
  t.throws(() => generateWorkload({ ...defaultWorkloadOptions(10, 1), samplingThreshold: 'zz' }), {
    message: /samplingThreshold "zz"/,
  });
  t.throws(() => generateWorkload(defaultWorkloadOptions(-1, 1)), { message: /traces must be an integer ≥ 0/ });
});

test('generator output on disk reads back through FileSpanSource; bad lines are reported, the rest kept', async (t) => {
  const dir = tempDir(t);
  const w = generateWorkload(defaultWorkloadOptions(50, 9));
  writeWorkload(dir, w);
  const truth = JSON.parse(readFileSync(join(dir, TRUTH_FILE), 'utf8'));
  t.is(truth.spans, w.spans.length);
  const clean = await new FileSpanSource(dir).readSpans();
  t.deepEqual(clean.problems, []);
  t.deepEqual(clean.spans, w.spans);

  const file = join(dir, SPANS_FILE);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const bad = { ...JSON.parse(lines[2]!), endUs: 0 };
  lines[1] = '{not json';
  lines[2] = JSON.stringify(bad);
  lines[3] = JSON.stringify({ ...JSON.parse(lines[3]!), traceId: 'XYZ' });
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await new FileSpanSource(file).readSpans();
  t.is(r.spans.length, w.spans.length - 3);
  t.is(r.problems.length, 3);
  t.regex(r.problems[0]!, /spans\.jsonl:2: not JSON/);
  t.regex(r.problems[1]!, /spans\.jsonl:3: endUs is before startUs/);
  t.regex(r.problems[2]!, /spans\.jsonl:4: traceId must be 32 lowercase hex digits/);
  const window = await new FileSpanSource(dir).readSpans({ service: 'bank' });
  t.true(window.spans.length > 0 && window.spans.every((s) => s.service === 'bank'));
  await t.throwsAsync(() => new FileSpanSource(join(dir, 'missing')).readSpans(), { message: /missing/ });
  const capped = await new FileSpanSource(dir, 10).readSpans();
  t.is(capped.spans.length, 10);
  t.regex(capped.problems.at(-1)!, new RegExp(`${w.spans.length - 10 - 3} spans left out: more than 10 spans`));
});

test('generated spans leave through the real OTLP/HTTP exporter with ids, times, kinds, status and resource intact', async (t) => {
  const bodies: string[] = [];
  const receiver = await startUpstream(t, (req) => {
    bodies.push(req.body);
    return { status: 200, body: '{}', headers: { 'content-type': 'application/json' } };
  });
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${receiver.port}/v1/traces` });
  t.teardown(() => exporter.shutdown());
  const { spans } = generateWorkload({ ...defaultWorkloadOptions(20, 4), samplingThreshold: '0' });
  const code = await new Promise<number>((resolve) => exporter.export(toReadableSpans(spans), (r) => resolve(r.code)));
  t.is(code, 0);
  t.is(receiver.received[0]!.headers['content-type'], 'application/json');
  interface OtlpSpan {
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    name: string;
    kind: number;
    startTimeUnixNano: string;
    endTimeUnixNano: string;
    status: { code: number; message?: string };
    traceState?: string;
  }
  const got = new Map<string, { s: OtlpSpan; service: string }>();
  for (const body of bodies) {
    for (const rs of JSON.parse(body).resourceSpans) {
      const service = rs.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value.stringValue;
      for (const ss of rs.scopeSpans) for (const s of ss.spans as OtlpSpan[]) got.set(s.spanId, { s, service });
    }
  }
  t.is(got.size, spans.length);
  const otlpKind = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
  const otlpStatus = { unset: 0, ok: 1, error: 2 };
  for (const s of spans) {
    const g = got.get(s.spanId)!;
    t.is(g.s.traceId, s.traceId);
    t.is(g.s.parentSpanId || null, s.parentSpanId);
    t.is(g.s.name, s.name);
    t.is(g.s.kind, otlpKind[s.kind]);
    t.is(BigInt(g.s.startTimeUnixNano), BigInt(s.startUs) * 1000n);
    t.is(BigInt(g.s.endTimeUnixNano), BigInt(s.endUs) * 1000n);
    t.is(g.s.status.code, otlpStatus[s.status]);
    t.is(g.s.traceState, 'ot=th:0');
    t.is(g.service, s.service);
  }
});
