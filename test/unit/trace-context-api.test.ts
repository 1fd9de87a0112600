// The codec's public helpers: carriers over a real Node HTTP server, id generation, header-name
// stripping, traceresponse, and inject's refusal to write bad ids.
import { request } from 'node:http';
import test from 'ava';
import {
  extract,
  formatTraceresponse,
  headersFromNode,
  headersFromPairs,
  headersFromRawList,
  inject,
  isTraceHeader,
  isValidSpanId,
  isValidTraceId,
  newSpanId,
  newTraceContext,
  newTraceId,
  pairSetter,
  parseTraceresponse,
  recordSetter,
  TRACE_HEADER_NAMES,
  translate,
} from '../../core/trace-context/index.ts';
import { startUpstream } from '../support/upstream.ts';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const TP = `00-${T}-${S}-01`;

function send(port: number, rawHeaders: [string, string][]): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    // setHeader would merge duplicates: write each pair so the server sees them separately.
    for (const [name, value] of rawHeaders) req.appendHeader(name, value);
    req.end();
  });
}

test('real HTTP request: duplicate traceparent is refused through both Node carriers', async (t) => {
  const upstream = await startUpstream(t);
  await send(upstream.port, [
    ['traceparent', TP],
    ['traceparent', TP],
    ['X-B3-TraceId', T],
    ['X-B3-SpanId', S],
    ['baggage', 'a=1'],
    ['baggage', 'b=2'],
  ]);
  const [received] = upstream.received;
  t.truthy(received);
  for (const getter of [headersFromNode(received!.headers), headersFromRawList(received!.rawHeaders)]) {
    const result = extract(getter);
    t.true(result.valid);
    if (!result.valid) continue;
    t.is(result.format, 'b3multi');
    t.deepEqual(result.reasons, ['traceparent_duplicate']);
    t.deepEqual(result.context.baggage, [
      ['a', '1'],
      ['b', '2'],
    ]);
  }
});

test('carriers: names match in any case; setters lower-case names', (t) => {
  const getter = headersFromPairs([
    ['TraceParent', TP],
    ['traceparent', 'x'],
  ]);
  t.deepEqual(getter.get('TRACEPARENT'), [TP, 'x']);
  t.deepEqual(headersFromNode({ traceparent: TP }).get('TraceParent'), [TP]);
  const pairs: [string, string][] = [];
  const record: Record<string, string> = {};
  const ctx = { traceId: T, spanId: S, sampled: true, debug: false, random: false, tracestate: '', baggage: [] };
  inject(ctx, ['b3'], pairSetter(pairs));
  inject(ctx, ['b3'], recordSetter(record));
  t.deepEqual(pairs, [['b3', `${T}-${S}-1`]]);
  t.deepEqual(record, { b3: `${T}-${S}-1` });
});

test('new ids are valid, random and distinct; a new root context sets the random flag', (t) => {
  const traces = new Set(Array.from({ length: 200 }, newTraceId));
  const spans = new Set(Array.from({ length: 200 }, newSpanId));
  t.is(traces.size, 200);
  t.is(spans.size, 200);
  t.true([...traces].every(isValidTraceId));
  t.true([...spans].every(isValidSpanId));
  const root = newTraceContext(null, true);
  t.like(root, { sampled: true, debug: true, random: true, tracestate: '', baggage: [] });
  t.is(inject(root, ['w3c'])[0]?.[1], `00-${root.traceId}-${root.spanId}-03`);
});

test('isTraceHeader covers every name inject can write, uberctx-* included, any case', (t) => {
  const ctx = { ...newTraceContext(true, true), tracestate: 'a=1', baggage: [['k', 'v']] as [string, string][] };
  const written = inject(ctx, ['w3c', 'b3', 'b3multi', 'jaeger']).map(([name]) => name);
  t.true(written.length >= 8);
  for (const name of written) t.true(isTraceHeader(name), name);
  t.true(isTraceHeader('X-B3-ParentSpanId'));
  t.true(isTraceHeader('Uberctx-Tenant'));
  t.false(isTraceHeader('x-request-id'));
  t.false(isTraceHeader('authorization'));
  t.true(TRACE_HEADER_NAMES.includes('x-b3-sampled'));
});

test('traceresponse: Level 2 format, parsed back', (t) => {
  const value = formatTraceresponse({ traceId: T, spanId: S, sampled: false, debug: false, random: true });
  t.is(value, `00-${T}-${S}-02`);
  const parsed = parseTraceresponse(value);
  t.deepEqual(parsed, { ok: true, value: { traceId: T, spanId: S, sampled: false, debug: false, random: true } });
  t.deepEqual(parseTraceresponse(`00-${T}-${S}`), { ok: false, reason: 'traceparent_malformed' });
});

test('inject writes nothing for invalid ids and drops an invalid tracestate', (t) => {
  const base = { traceId: T, spanId: S, sampled: true, debug: false, random: false, tracestate: '', baggage: [] };
  t.deepEqual(inject({ ...base, traceId: '0'.repeat(32) }, ['w3c', 'b3']), []);
  t.deepEqual(inject({ ...base, spanId: 'XYZ' }, ['jaeger']), []);
  t.deepEqual(inject({ ...base, tracestate: 'Bad Key=1' }, ['w3c']), [['traceparent', TP]]);
  t.deepEqual(inject({ ...base, traceId: 'a3ce929d0e0e4736' }, ['b3']), [
    ['b3', `0000000000000000a3ce929d0e0e4736-${S}-1`],
  ]);
});

test('translate without a span id draws a fresh one and keeps the parent as caller', (t) => {
  const result = translate(headersFromPairs([['traceparent', TP]]), { formats: ['b3'] });
  t.truthy(result.context);
  t.true(isValidSpanId(result.context!.spanId));
  t.not(result.context!.spanId, S);
  t.deepEqual(result.headers, [['b3', `${T}-${result.context!.spanId}-1`]]);
  t.true(result.extracted.valid);
});
