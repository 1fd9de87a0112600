// core/otel FinishedSpan: a span built from recorded data must export exactly as the SDK span
// for the same data would — same OTLP protobuf bytes — including the SDK's limits. DeferredSpan,
// the same span built only when the exporter first reads it, must export the same bytes too.
import {
  type Attributes,
  context,
  createTraceState,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  type IdGenerator,
  InMemorySpanExporter,
  type ReadableSpan,
  SamplingDecision,
  SimpleSpanProcessor,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { DeferredSpan, FinishedSpan, type FinishedSpanInit } from '../../core/otel/index.ts';

const LIMITS: SpanLimits = {
  attributeCountLimit: 8,
  attributeValueLengthLimit: 32,
  linkCountLimit: 2,
  attributePerLinkCountLimit: 2,
  eventCountLimit: 4,
};
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE: SpanContext = { traceId: T, spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };
const START = 1_764_000_000_123;

class FixedIds implements IdGenerator {
  span = '';
  generateTraceId = () => T;
  generateSpanId = () => this.span;
}

function sdkSpan(init: FinishedSpanInit, ids: FixedIds, provider: BasicTracerProvider, exporter: InMemorySpanExporter) {
  ids.span = init.spanId;
  const ctx = init.parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, init.parent);
  const span = provider
    .getTracer('meshtrace')
    .startSpan(
      init.name,
      { kind: init.kind, attributes: init.attributes, links: [...(init.links ?? [])], startTime: init.startMs },
      ctx,
    );
  if (init.error) span.setStatus({ code: SpanStatusCode.ERROR, message: init.error });
  span.end(init.endMs);
  return exporter.getFinishedSpans().at(-1) as ReadableSpan;
}

const many: Attributes = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]));
const links: Link[] = [
  { context: { ...REMOTE, spanId: '1111111111111111' }, attributes: { a: 'x'.repeat(40), b: 1, c: true } },
  { context: { ...REMOTE, spanId: '2222222222222222' } },
  { context: { ...REMOTE, spanId: '3333333333333333' }, attributes: { only: 'one' } },
];

const cases: Array<[string, Omit<FinishedSpanInit, 'traceState'> & { tracestate: string }]> = [
  [
    'root server span, long value cut, error status, links past the limit',
    {
      name: 'GET /orders',
      kind: SpanKind.SERVER,
      traceId: T,
      spanId: 'a1a1a1a1a1a1a1a1',
      tracestate: 'ot=th:0,vendor=1',
      parent: undefined,
      startMs: START,
      endMs: START + 42,
      attributes: {
        'url.path': `/${'p'.repeat(100)}`,
        'http.response.status_code': 503,
        ok: false,
        missing: undefined,
      },
      links,
      error: '503',
    },
  ],
  [
    'child of a remote parent, attributes past the count limit',
    {
      name: 'attempt 1 127.0.0.1:1',
      kind: SpanKind.CLIENT,
      traceId: T,
      spanId: 'b2b2b2b2b2b2b2b2',
      tracestate: '',
      parent: REMOTE,
      startMs: START + 1,
      endMs: START + 2,
      attributes: many,
    },
  ],
  [
    'end before start ends at the start',
    {
      name: 'backwards',
      kind: SpanKind.SERVER,
      traceId: T,
      spanId: 'c3c3c3c3c3c3c3c3',
      tracestate: 'ot=th:8',
      parent: REMOTE,
      startMs: START + 10,
      endMs: START + 5,
      attributes: { arr: ['y'.repeat(40), 'z'] },
    },
  ],
  [
    'an own `__proto__` key (as JSON.parse makes one) is no attribute and takes no slot of the limit',
    {
      name: 'proto',
      kind: SpanKind.SERVER,
      traceId: T,
      spanId: 'd4d4d4d4d4d4d4d4',
      tracestate: '',
      parent: undefined,
      startMs: START,
      endMs: START + 1,
      attributes: JSON.parse(
        `{"__proto__": ["x"], ${Array.from({ length: LIMITS.attributeCountLimit! }, (_, i) => `"k${i}": ${i}`).join(', ')}}`,
      ) as Attributes,
    },
  ],
];

for (const [name, c] of cases) {
  test(`FinishedSpan exports the SDK span's bytes: ${name}`, (t) => {
    const resource = resourceFromAttributes({ 'service.name': 'finished-span-test' });
    const ids = new FixedIds();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource,
      idGenerator: ids,
      spanLimits: LIMITS,
      sampler: {
        shouldSample: () => ({
          decision: SamplingDecision.RECORD_AND_SAMPLED,
          traceState: createTraceState(c.tracestate),
        }),
        toString: () => 'test',
      },
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const { tracestate, ...rest } = c;
    const init: FinishedSpanInit = { ...rest, traceState: createTraceState(tracestate) };
    const viaSdk = context.with(ROOT_CONTEXT, () => sdkSpan(init, ids, provider, exporter));
    const scope = (provider.getTracer('meshtrace') as unknown as { instrumentationScope: InstrumentationScope })
      .instrumentationScope;
    const finished = new FinishedSpan(init, resource, scope, LIMITS);
    const a = ProtobufTraceSerializer.serializeRequest([viaSdk]);
    const b = ProtobufTraceSerializer.serializeRequest([finished]);
    t.truthy(a);
    t.deepEqual(Buffer.from(b!), Buffer.from(a!));
    t.is(finished.droppedAttributesCount, viaSdk.droppedAttributesCount);
    t.is(finished.droppedLinksCount, viaSdk.droppedLinksCount);
  });
}

for (const [name, c] of cases) {
  test(`DeferredSpan is built once, on the exporter's first read, into FinishedSpan's bytes: ${name}`, (t) => {
    const resource = resourceFromAttributes({ 'service.name': 'finished-span-test' });
    const scope: InstrumentationScope = { name: 'meshtrace' };
    const { tracestate, ...rest } = c;
    const traceState = tracestate === '' ? undefined : createTraceState(tracestate);
    const init: FinishedSpanInit = { ...rest, traceState };
    let built = 0;
    const deferred = new DeferredSpan(
      c.traceId,
      c.spanId,
      traceState,
      {
        spanInit: () => {
          built++;
          return init;
        },
      },
      resource,
      scope,
      LIMITS,
    );
    // What the batch processor reads when the span is handed over: no build yet.
    t.is(deferred.spanContext().traceFlags & 1, 1);
    t.is(deferred.spanContext().traceState, traceState);
    t.is(built, 0);
    const eager = new FinishedSpan(init, resource, scope, LIMITS);
    const a = ProtobufTraceSerializer.serializeRequest([eager]);
    const b = ProtobufTraceSerializer.serializeRequest([deferred]);
    t.deepEqual(Buffer.from(b!), Buffer.from(a!));
    t.is(built, 1);
    t.is(deferred.droppedAttributesCount, eager.droppedAttributesCount);
    t.is(deferred.droppedLinksCount, eager.droppedLinksCount);
    t.is(built, 1);
  });
}
