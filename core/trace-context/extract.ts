// Extraction across formats (test/vectors/README.md, "Precedence"): formats are tried in order,
// the first valid one wins; every problem seen on the way is kept as a reason, in order:
// failed formats, then tracestate (only when w3c wins), then baggage.
import { readB3Multi, readB3Single } from './b3.ts';
import type { HeaderGetter } from './carriers.ts';
import { readUberctxBaggage, readUberTraceId } from './jaeger.ts';
import type { Parsed, Reason } from './reasons.ts';
import { DEFAULT_FORMATS, type SpanIds, type TraceContext, type TraceFormat } from './types.ts';
import { BaggageCollector, readBaggageHeader } from './w3c-baggage.ts';
import { readTraceparent } from './w3c-traceparent.ts';
import { readTracestate } from './w3c-tracestate.ts';

export type ExtractResult =
  | { valid: true; format: TraceFormat; context: TraceContext; reasons: Reason[] }
  | { valid: false; reasons: Reason[]; baggage: [string, string][] };

const READERS: Record<TraceFormat, (getter: HeaderGetter) => Parsed<SpanIds> | null> = {
  w3c: readTraceparent,
  b3: readB3Single,
  b3multi: readB3Multi,
  jaeger: readUberTraceId,
};

/** Never throws on header content: invalid input gives `valid: false` and the reasons. */
export function extract(getter: HeaderGetter, formats: readonly TraceFormat[] = DEFAULT_FORMATS): ExtractResult {
  const reasons: Reason[] = [];
  let format: TraceFormat | null = null;
  let ids: SpanIds | null = null;
  for (let i = 0; i < formats.length; i++) {
    const parsed = READERS[formats[i]!](getter);
    if (parsed === null) continue;
    if (parsed.ok) {
      format = formats[i]!;
      ids = parsed.value;
      break;
    }
    reasons.push(parsed.reason);
  }

  let tracestate = '';
  if (format === 'w3c') {
    const state = readTracestate(getter);
    if (state?.ok) tracestate = state.value;
    else if (state) reasons.push(state.reason);
  }

  // Baggage does not depend on the trace context: read it whichever format (if any) won.
  const baggage = new BaggageCollector();
  readBaggageHeader(getter, baggage);
  readUberctxBaggage(getter, baggage);
  for (let i = 0; i < baggage.reasons.length; i++) reasons.push(baggage.reasons[i]!);

  if (format === null || ids === null) return { valid: false, reasons, baggage: baggage.entries };
  return {
    valid: true,
    format,
    context: {
      traceId: ids.traceId,
      spanId: ids.spanId,
      sampled: ids.sampled,
      debug: ids.debug,
      random: ids.random,
      tracestate,
      baggage: baggage.entries,
    },
    reasons,
  };
}
