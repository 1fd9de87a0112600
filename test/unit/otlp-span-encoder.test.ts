// core/otel DeferredSpanEncoder writes an export request straight from DeferredSpans' recorded
// facts. It stands in for the SDK's ProtobufTraceSerializer over the FinishedSpans the same
// facts build (FinishedSpan is held to the SDK's own spans in otel-finished-span.test.ts), so
// the two must write the same bytes — on random span sets, limits, links, status, odd numbers
// and non-ASCII text included — and it must decline what it does not write.
import { type Attributes, type AttributeValue, createTraceState, type Link, SpanKind } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanLimits } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import fc from 'fast-check';
import { DeferredSpan, FinishedSpan, type FinishedSpanInit } from '../../core/otel/index.ts';
import { DeferredSpanSerializer } from '../../core/otel/otlp-http-exporter.ts';
import { DeferredSpanEncoder } from '../../core/otel/otlp-span-encoder.ts';

const LIMITS: SpanLimits = {
  attributeCountLimit: 6,
  attributeValueLengthLimit: 12,
  linkCountLimit: 2,
  attributePerLinkCountLimit: 2,
  eventCountLimit: 4,
};
const RESOURCE = resourceFromAttributes({ 'service.name': 'gateway-ü', 'deployment.environment.name': 'test' });
const SCOPE: InstrumentationScope = { name: 'meshtrace', version: '0.1.0' };

const hexId = (bytes: number) =>
  fc
    .uint8Array({ minLength: bytes, maxLength: bytes })
    .filter((b) => b.some((x) => x !== 0))
    .map((b) => Buffer.from(b).toString('hex'));
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  // Any UTF-16 code units, lone surrogates included (both sides write those as U+FFFD).
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }).map((units) => String.fromCharCode(...units)),
  fc.constant(''),
);
const scalar: fc.Arbitrary<AttributeValue | undefined | null> = fc.oneof(
  text,
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.double(),
  fc.constantFrom(2 ** 60, -(2 ** 62), 2 ** 63, -(2 ** 63), 0xffffffff, 0x100000000, -0, Number.NaN),
  fc.constant(undefined),
  fc.constant(null),
);
const value: fc.Arbitrary<AttributeValue | undefined | null> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(text, fc.constant(null)), { maxLength: 4 }) as fc.Arbitrary<AttributeValue>,
  },
  { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 4 }) },
);
const attributes = fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a.b', '1', '')), value, {
  maxKeys: 9,
  noNullPrototype: true,
}) as fc.Arbitrary<Attributes>;
const tracestate = fc.option(fc.constantFrom('ot=th:0', 'ot=th:8;rv:01,vendor=x', 'a=1'), { nil: undefined });
const link: fc.Arbitrary<Link> = fc
  .record({
    traceId: hexId(16),
    spanId: hexId(8),
    sampled: fc.boolean(),
    isRemote: fc.option(fc.boolean(), { nil: undefined }),
    ts: tracestate,
    attributes: fc.option(attributes, { nil: undefined }),
  })
  .map((l) => ({
    context: {
      traceId: l.traceId,
      spanId: l.spanId,
      traceFlags: l.sampled ? 1 : 0,
      ...(l.isRemote === undefined ? {} : { isRemote: l.isRemote }),
      ...(l.ts === undefined ? {} : { traceState: createTraceState(l.ts) }),
    },
    ...(l.attributes === undefined ? {} : { attributes: l.attributes }),
  }));
const spanInit = (traceState: string | undefined): fc.Arbitrary<FinishedSpanInit> =>
  fc
    .record({
      name: text,
      kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
      traceId: hexId(16),
      spanId: hexId(8),
      parent: fc.option(fc.record({ spanId: hexId(8), isRemote: fc.boolean(), sampled: fc.boolean() }), {
        nil: undefined,
      }),
      // Epoch ms, integral (Date.now()) or not; an end up to a second before the start.
      startMs: fc.oneof(fc.integer({ min: 1.7e12, max: 1.8e12 }), fc.double({ min: 1.7e12, max: 1.8e12, noNaN: true })),
      durationMs: fc.oneof(fc.integer({ min: -1000, max: 60_000 }), fc.double({ min: -5, max: 5, noNaN: true })),
      attributes,
      links: fc.option(fc.array(link, { maxLength: 4 }), { nil: undefined }),
      error: fc.option(fc.oneof(text, fc.constant(null)), { nil: undefined }),
    })
    .map((r) => ({
      name: r.name,
      kind: r.kind,
      traceId: r.traceId,
      spanId: r.spanId,
      traceState: traceState === undefined ? undefined : createTraceState(traceState),
      parent:
        r.parent === undefined
          ? undefined
          : {
              traceId: r.traceId,
              spanId: r.parent.spanId,
              traceFlags: r.parent.sampled ? 1 : 0,
              isRemote: r.parent.isRemote,
            },
      startMs: r.startMs,
      endMs: r.startMs + r.durationMs,
      attributes: r.attributes,
      ...(r.links === undefined ? {} : { links: r.links }),
      ...(r.error === undefined ? {} : { error: r.error }),
    }));

function deferred(init: FinishedSpanInit): DeferredSpan {
  return new DeferredSpan(
    init.traceId,
    init.spanId,
    init.traceState,
    { spanInit: () => init },
    RESOURCE,
    SCOPE,
    LIMITS,
  );
}

function sdkBytes(inits: readonly FinishedSpanInit[]): Uint8Array {
  const spans = inits.map((i) => new FinishedSpan(i, RESOURCE, SCOPE, LIMITS));
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}

test('a batch of DeferredSpans encodes to exactly the bytes the SDK serializer writes for their FinishedSpans', (t) => {
  // One encoder across runs, as in an exporter: its remembered frame and size must not leak
  // from one batch into the next. The property returns a verdict (rather than asserting) so
  // fast-check shrinks a failure to its smallest span set; its report (counterexample, seed)
  // is the assertion's message.
  const encoder = new DeferredSpanEncoder();
  const run = fc.check(
    fc.property(
      tracestate.chain((ts) => fc.array(spanInit(ts), { minLength: 1, maxLength: 6 })),
      (inits) => {
        const ours = encoder.encode(inits.map(deferred));
        return ours !== null && Buffer.from(ours).equals(Buffer.from(sdkBytes(inits)));
      },
    ),
    { numRuns: 400 },
  );
  t.false(run.failed, fc.defaultReportMessage(run));
});

test('a large batch (spans past 128 bytes, a request past the last one’s size) encodes exactly', (t) => {
  const encoder = new DeferredSpanEncoder();
  for (const n of [1, 700, 3]) {
    const inits = fc.sample(spanInit('ot=th:0'), { numRuns: n, seed: n });
    for (const i of inits) i.attributes['long'] = 'x'.repeat(200);
    const ours = encoder.encode(inits.map(deferred));
    t.deepEqual(Buffer.from(ours!), Buffer.from(sdkBytes(inits)), `${n} spans`);
  }
});

test('resource and scope attributes are written as the SDK writes them (an empty key too)', (t) => {
  const resource = resourceFromAttributes({ 'service.name': 'gw', '': 'empty key', n: 3, list: ['a', 'b'] });
  const scope = { name: 'meshtrace', version: '1', attributes: { 'scope.x': true } } as InstrumentationScope;
  const inits = fc.sample(spanInit(undefined), { numRuns: 3, seed: 11 });
  const ours = new DeferredSpanEncoder().encode(
    inits.map((i) => new DeferredSpan(i.traceId, i.spanId, undefined, { spanInit: () => i }, resource, scope, LIMITS)),
  );
  const sdk = ProtobufTraceSerializer.serializeRequest(inits.map((i) => new FinishedSpan(i, resource, scope, LIMITS)));
  t.deepEqual(Buffer.from(ours!), Buffer.from(sdk!));
});

test('the encoder declines what it does not write, and the serializer then uses the SDK one', (t) => {
  const [a, b] = fc.sample(spanInit(undefined), { numRuns: 2, seed: 7 }) as [FinishedSpanInit, FinishedSpanInit];
  const encoder = new DeferredSpanEncoder();
  const other = new DeferredSpan(
    b.traceId,
    b.spanId,
    undefined,
    { spanInit: () => b },
    resourceFromAttributes({}),
    SCOPE,
    LIMITS,
  );
  t.is(encoder.encode([deferred(a), other]), null, 'two resources in one batch');
  t.is(
    encoder.encode([deferred(a), new FinishedSpan(b, RESOURCE, SCOPE, LIMITS)]),
    null,
    'a span that is no DeferredSpan',
  );
  const odd = { ...b, attributes: { ok: 1, odd: [{ nested: true }] as unknown as AttributeValue } };
  t.is(encoder.encode([deferred(odd)]), null, 'an array item that is no scalar');
  t.is(encoder.encode([]), null);

  const serializer = new DeferredSpanSerializer();
  const mixed: ReadableSpan[] = [deferred(a), new FinishedSpan(b, RESOURCE, SCOPE, LIMITS)];
  t.deepEqual(Buffer.from(serializer.serializeRequest(mixed)!), Buffer.from(sdkBytes([a, b])));
  t.is(serializer.declined, 1);
  t.deepEqual(Buffer.from(serializer.serializeRequest([deferred(a), deferred(b)])!), Buffer.from(sdkBytes([a, b])));
  t.is(serializer.declined, 1, 'a batch of DeferredSpans is encoded, not declined');
});
