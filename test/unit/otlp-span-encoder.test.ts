// The hand-written OTLP span encoder (core/otel/otlp-span-encoder.ts) against the SDK it stands
// in for: the same span, once ended through the OpenTelemetry SDK (its span limits applied)
// and serialised by the SDK's own OTLP protobuf serializer, once encoded from its plain data —
// both requests decoded by the collector's protobuf schema must be equal, field for field.
import {
  type Attributes,
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  type IdGenerator,
  InMemorySpanExporter,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import fc from 'fast-check';
import { ExportTraceServiceRequest } from '../../analysis/otlp/schema.ts';
import {
  type EncodeLimits,
  RequestFrame,
  SPANS_FIELD,
  type SpanRecord,
  writeSpan,
} from '../../core/otel/otlp-span-encoder.ts';
import { ProtoWriter } from '../../core/otel/proto-writer.ts';

const LIMITS: EncodeLimits = {
  attributeCountLimit: 6,
  attributeValueLengthLimit: 12,
  linkCountLimit: 2,
  attributePerLinkCountLimit: 2,
};
const RESOURCE = { 'service.name': 'gateway-ü' };

function encodeOurs(spans: SpanRecord[]): Uint8Array {
  const w = new ProtoWriter(16);
  for (const s of spans) writeSpan(w, SPANS_FIELD, s, LIMITS);
  const body = w.view();
  return Buffer.concat([new RequestFrame(RESOURCE, { name: 'meshtrace' }).frame(body.length), body]);
}

/** The same spans through the SDK: ids, tracestate and times as recorded, its limits applied. */
function encodeSdk(spans: SpanRecord[]): Uint8Array {
  let next: SpanRecord | null = null;
  const ids: IdGenerator = {
    generateTraceId: () => next!.traceId,
    generateSpanId: () => next!.spanId,
  };
  const sampler: Sampler = {
    shouldSample: () => ({
      decision: SamplingDecision.RECORD_AND_SAMPLED,
      ...(next!.tracestate === '' ? {} : { traceState: createTraceState(next!.tracestate) }),
    }),
  };
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(RESOURCE),
    idGenerator: ids,
    sampler,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { ...LIMITS, attributeValueLengthLimit: LIMITS.attributeValueLengthLimit },
  });
  const tracer = provider.getTracer('meshtrace');
  for (const s of spans) {
    next = s;
    let ctx: Context = ROOT_CONTEXT;
    if (s.parent !== null) {
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: s.traceId,
        spanId: s.parent.spanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: s.parent.isRemote,
      });
    }
    const span = tracer.startSpan(
      s.name,
      {
        kind: s.kind as SpanKind,
        startTime: s.startMs,
        attributes: s.attributes as Attributes,
        links: (s.links ?? []).map((l) => ({
          context: {
            traceId: l.traceId,
            spanId: l.spanId,
            traceFlags: l.traceFlags,
            isRemote: l.isRemote,
            ...(l.tracestate ? { traceState: createTraceState(l.tracestate) } : {}),
          },
          ...(l.attributes ? { attributes: l.attributes as Attributes } : {}),
        })),
      },
      ctx,
    );
    if (s.error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: s.error });
    span.end(Math.max(s.startMs, s.endMs));
  }
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

// The generated protobufjs type has toObject; the schema's narrow type does not declare it.
type ToObject = { toObject(m: unknown, o: Record<string, unknown>): unknown };
type DecodedSpans = { resourceSpans: { scopeSpans: { spans: { name: string; endTimeUnixNano: string }[] }[] }[] };
const toObject = (bytes: Uint8Array, o: Record<string, unknown>) =>
  (ExportTraceServiceRequest as unknown as ToObject).toObject(ExportTraceServiceRequest.decode(bytes), o);
const decode = (bytes: Uint8Array) => toObject(bytes, { longs: String, bytes: String, defaults: true, arrays: true });

const hex = (n: number) =>
  fc
    .uint8Array({ minLength: n, maxLength: n })
    .filter((b) => b.some((x) => x !== 0))
    .map((b) => Buffer.from(b).toString('hex'));
// Keys as the SDK accepts them (non-empty); values of every scalar kind the encoder writes.
const attrValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.boolean(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
);
// Not `__proto__`: the SDK copies attributes by assignment, which turns that key into the copy's
// prototype and loses it; the encoder writes it like any other key.
const attributes = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'),
  attrValue,
  { maxKeys: 9 },
);
const tracestate = fc.constantFrom('', 'ot=th:0', 'vendor=abc,ot=th:fd71;rv:0123456789abcd');
const times = fc.tuple(
  fc.integer({ min: 1_600_000_000_000, max: 2_200_000_000_000 }),
  fc.integer({ min: -5, max: 5_000 }),
);
const span: fc.Arbitrary<SpanRecord> = fc
  .record({
    name: fc.string({ unit: 'grapheme', maxLength: 30 }),
    kind: fc.integer({ min: 0, max: 4 }),
    traceId: hex(16),
    spanId: hex(8),
    tracestate,
    parent: fc.option(fc.record({ spanId: hex(8), isRemote: fc.boolean() }), { nil: null }),
    times,
    attributes,
    links: fc.array(
      fc.record({
        traceId: hex(16),
        spanId: hex(8),
        tracestate,
        traceFlags: fc.constantFrom(0, 1),
        isRemote: fc.boolean(),
        attributes,
      }),
      { maxLength: 4 },
    ),
    error: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  })
  .map(({ times: [start, d], ...rest }) => ({ ...rest, startMs: start, endMs: start + d }));

test('encoded spans decode exactly as the SDK serializer writes them (limits, links, status, flags, times)', (t) => {
  fc.assert(
    fc.property(fc.array(span, { minLength: 1, maxLength: 5 }), (spans) => {
      t.deepEqual(decode(encodeOurs(spans)), decode(encodeSdk(spans)));
    }),
    { numRuns: 300 },
  );
});

test('a span body of 128 bytes or more gets a multi-byte length (the body is moved, not padded)', (t) => {
  const big: SpanRecord = {
    name: 'x'.repeat(300),
    kind: 1,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    tracestate: '',
    parent: null,
    startMs: 1_700_000_000_000,
    endMs: 1_700_000_000_004.5,
    attributes: { 'url.path': '/a'.repeat(100) },
    error: null,
  };
  const bytes = encodeOurs([big, { ...big, name: 'short', attributes: {} }]);
  const req = toObject(bytes, { longs: String }) as DecodedSpans;
  const spans = req.resourceSpans[0]!.scopeSpans[0]!.spans;
  t.is(spans.length, 2);
  t.is(spans[0]!.name, big.name);
  t.is(spans[1]!.name, 'short');
  t.is(spans[0]!.endTimeUnixNano, '1700000000004500000');
});

test('ProtoWriter: int64 of a negative value is ten bytes, times keep microseconds exactly', (t) => {
  const w = new ProtoWriter(1);
  w.int64(3, -1);
  t.deepEqual([...w.view()], [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  w.reset();
  w.nanosFromMs(7, 1_764_892_800_123.457);
  t.is(w.view().readBigUInt64LE(1), 1_764_892_800_123_457_000n);
});
