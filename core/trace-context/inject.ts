// Writing a context out in the configured formats (test/vectors/README.md, "Inject").
import { formatB3Multi, formatB3Single } from './b3.ts';
import type { HeaderSetter } from './carriers.ts';
import { isValidSpanId, isValidTraceId, padHex, TRACE_ID_HEX } from './ids.ts';
import { formatUberctx, formatUberTraceId, UBER_TRACE_ID } from './jaeger.ts';
import type { Parsed } from './reasons.ts';
import type { SpanIds, TraceContext, TraceFormat } from './types.ts';
import { BAGGAGE, formatBaggage } from './w3c-baggage.ts';
import { formatTraceparent, TRACEPARENT } from './w3c-traceparent.ts';
import { parseTracestate, TRACESTATE } from './w3c-tracestate.ts';

/**
 * The headers (lower-case names) for `context` in each of `formats`, also passed to `set` when
 * given. A context whose ids are invalid writes nothing: tracing must not break the request, and
 * a bad id would only poison the next hop. A tracestate that does not parse is not written.
 */
export function inject(context: TraceContext, formats: readonly TraceFormat[], set?: HeaderSetter): [string, string][] {
  const out: [string, string][] = [];
  const ids = normaliseIds(context);
  if (ids !== null) {
    // Each format once, first occurrence first (a Set per call showed in gateway profiles).
    for (let i = 0; i < formats.length; i++) {
      if (formats.indexOf(formats[i]!) === i) writeFormat(formats[i]!, ids, context, out);
    }
  }
  if (set) for (let i = 0; i < out.length; i++) set(out[i]![0], out[i]![1]);
  return out;
}

function normaliseIds(context: TraceContext): SpanIds | null {
  const traceId = context.traceId.length === 16 ? padHex(context.traceId, TRACE_ID_HEX) : context.traceId;
  if (!isValidTraceId(traceId) || !isValidSpanId(context.spanId)) return null;
  const debug = context.debug === true;
  return {
    traceId,
    spanId: context.spanId,
    sampled: debug ? true : context.sampled,
    debug,
    random: context.random === true,
  };
}

// Consecutive contexts mostly carry the same tracestate (a sampler's `ot=th:…`): parse it once.
// parseTracestate is pure and its answer is not mutated, so the last answer can be reused.
let lastTracestate: string | null = null;
let lastParsed: Parsed<string> | null = null;

function parsedTracestate(tracestate: string): Parsed<string> {
  if (tracestate !== lastTracestate || lastParsed === null) {
    lastParsed = parseTracestate(tracestate);
    lastTracestate = tracestate;
  }
  return lastParsed;
}

/** The `tracestate` value inject() writes for `tracestate`: its canonical form, '' when it does not parse. */
export function outboundTracestate(tracestate: string): string {
  if (tracestate === '') return '';
  const state = parsedTracestate(tracestate);
  return state.ok ? state.value : '';
}

function writeFormat(format: TraceFormat, ids: SpanIds, context: TraceContext, out: [string, string][]): void {
  switch (format) {
    case 'w3c': {
      out.push([TRACEPARENT, formatTraceparent(ids)]);
      const state = outboundTracestate(context.tracestate ?? '');
      if (state !== '') out.push([TRACESTATE, state]);
      const baggage = context.baggage && context.baggage.length > 0 ? formatBaggage(context.baggage) : '';
      if (baggage !== '') out.push([BAGGAGE, baggage]);
      return;
    }
    case 'b3':
      out.push(['b3', formatB3Single(ids)]);
      return;
    case 'b3multi':
      out.push(...formatB3Multi(ids));
      return;
    case 'jaeger':
      out.push([UBER_TRACE_ID, formatUberTraceId(ids)]);
      out.push(...formatUberctx(context.baggage ?? []));
      return;
  }
}
