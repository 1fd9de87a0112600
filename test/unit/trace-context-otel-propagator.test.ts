// MeshtracePropagator with the real @opentelemetry/api and sdk-trace-base: spans started under an
// extracted context become children of the caller's span, and inject writes our formats.
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { getExtractedTraceContext, MeshtracePropagator, type Reason } from '../../core/trace-context/index.ts';

const TB = '80f198ee56343ba864fe8b2a57d3eff7';
const SB = 'e457b5a2e4d86bd1';
const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { exporter, tracer: provider.getTracer('meshtrace-test') };
}

function injectInto(propagator: MeshtracePropagator, context: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return carrier;
}

test('b3 in: an SDK span becomes the child of the caller span and w3c goes out', (t) => {
  const { exporter, tracer } = sdk();
  const propagator = new MeshtracePropagator({ outbound: ['w3c', 'b3'] });
  const parent = propagator.extract(ROOT_CONTEXT, { b3: `${TB}-${SB}-1` }, defaultTextMapGetter);
  const span = tracer.startSpan('hop', {}, parent);
  const out = injectInto(propagator, trace.setSpan(parent, span));
  span.end();

  const [finished] = exporter.getFinishedSpans();
  t.truthy(finished, 'the sampled remote parent leads to an exported span');
  t.is(finished!.spanContext().traceId, TB);
  t.is(finished!.parentSpanContext?.spanId, SB);
  t.true(finished!.parentSpanContext?.isRemote);
  const child = span.spanContext().spanId;
  t.not(child, SB);
  t.is(out.traceparent, `00-${TB}-${child}-01`);
  t.is(out.b3, `${TB}-${child}-1`);
});

test('unsampled w3c in: ParentBased sampler drops the child, out says not sampled', (t) => {
  const { exporter, tracer } = sdk();
  const propagator = new MeshtracePropagator({ outbound: ['b3multi'] });
  const parent = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${T}-${S}-00` }, defaultTextMapGetter);
  const span = tracer.startSpan('hop', {}, parent);
  const out = injectInto(propagator, trace.setSpan(parent, span));
  span.end();
  t.is(exporter.getFinishedSpans().length, 0);
  t.is(out['x-b3-sampled'], '0');
  t.is(out['x-b3-traceid'], T);
});

test('tracestate and baggage survive extract → OTel context → inject', (t) => {
  const propagator = new MeshtracePropagator({ outbound: ['w3c', 'jaeger'] });
  const ctx = propagator.extract(
    ROOT_CONTEXT,
    { traceparent: `00-${T}-${S}-03`, tracestate: 'congo=t61rcWkgMzE, rojo=1', baggage: 'user=alice,note=a%20b' },
    defaultTextMapGetter,
  );
  const baggage = propagation.getBaggage(ctx);
  t.is(baggage?.getEntry('user')?.value, 'alice');
  t.is(baggage?.getEntry('note')?.value, 'a b');
  t.is(trace.getSpanContext(ctx)?.traceState?.get('congo'), 't61rcWkgMzE');

  const out = injectInto(propagator, ctx);
  t.deepEqual(out, {
    traceparent: `00-${T}-${S}-03`,
    tracestate: 'congo=t61rcWkgMzE,rojo=1',
    baggage: 'user=alice,note=a%20b',
    'uber-trace-id': `${T}:${S}:0:1`,
    'uberctx-user': 'alice',
    'uberctx-note': 'a%20b',
  });
});

test('B3 debug carries over to a local child span; a deferred decision passes through untouched', (t) => {
  const { tracer } = sdk();
  const propagator = new MeshtracePropagator({ outbound: ['b3'] });
  const debugCtx = propagator.extract(ROOT_CONTEXT, { b3: `${TB}-${SB}-d` }, defaultTextMapGetter);
  t.true(getExtractedTraceContext(debugCtx)?.debug);
  const span = tracer.startSpan('hop', {}, debugCtx);
  t.is(injectInto(propagator, trace.setSpan(debugCtx, span)).b3, `${TB}-${span.spanContext().spanId}-d`);
  span.end();

  const deferred = propagator.extract(ROOT_CONTEXT, { b3: `${TB}-${SB}` }, defaultTextMapGetter);
  t.is(getExtractedTraceContext(deferred)?.sampled, null);
  t.is(injectInto(propagator, deferred).b3, `${TB}-${SB}`, 'no sampling state is invented on pass-through');
});

test('mixed-case carrier keys are found (OTel getters are case-sensitive)', (t) => {
  const propagator = new MeshtracePropagator();
  const ctx = propagator.extract(
    ROOT_CONTEXT,
    { 'X-B3-TraceId': TB, 'X-B3-SpanId': SB, 'X-B3-Sampled': '1' },
    defaultTextMapGetter,
  );
  t.deepEqual(
    { traceId: trace.getSpanContext(ctx)?.traceId, spanId: trace.getSpanContext(ctx)?.spanId },
    { traceId: TB, spanId: SB },
  );
});

test('invalid input: context unchanged, reasons reported, baggage still read', (t) => {
  const seen: Reason[][] = [];
  const propagator = new MeshtracePropagator({ onReasons: (r) => seen.push(r) });
  const ctx = propagator.extract(
    ROOT_CONTEXT,
    { traceparent: `00-${T.toUpperCase()}-${S}-01`, baggage: 'k=v,bad' },
    defaultTextMapGetter,
  );
  t.is(trace.getSpanContext(ctx), undefined);
  t.is(propagation.getBaggage(ctx)?.getEntry('k')?.value, 'v');
  t.deepEqual(seen, [['traceparent_invalid_hex', 'baggage_invalid_member']]);
  t.deepEqual(injectInto(propagator, ctx), {}, 'nothing to inject without a span context');
});

test('inbound formats restrict what is accepted', (t) => {
  const propagator = new MeshtracePropagator({ inbound: ['jaeger'] });
  const ctx = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${T}-${S}-01` }, defaultTextMapGetter);
  t.is(trace.getSpanContext(ctx), undefined);
  const jaeger = propagator.extract(ROOT_CONTEXT, { 'uber-trace-id': `${T}:${S}:0:1` }, defaultTextMapGetter);
  t.is(trace.getSpanContext(jaeger)?.spanId, S);
});

test('configuration: bad formats refused with the field named; fields() and toString() describe it', (t) => {
  t.throws(() => new MeshtracePropagator({ outbound: ['w3c', 'zipkin' as never] }), {
    message: /outbound\[1\] is "zipkin"/,
  });
  t.throws(() => new MeshtracePropagator({ inbound: 'w3c' as never }), { message: /inbound must be an array/ });
  const propagator = new MeshtracePropagator({ outbound: ['b3', 'jaeger'] });
  t.deepEqual(propagator.fields(), ['b3', 'uber-trace-id']);
  t.is(propagator.toString(), 'MeshtracePropagator{inbound=w3c,b3,b3multi,jaeger, outbound=b3,jaeger}');
});

test('works as the global OTel propagator', (t) => {
  propagation.setGlobalPropagator(new MeshtracePropagator({ outbound: ['b3multi'] }));
  t.teardown(() => propagation.disable());
  const ctx = propagation.extract(ROOT_CONTEXT, { traceparent: `00-${T}-${S}-01` });
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  t.deepEqual(carrier, { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
});
