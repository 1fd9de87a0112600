// Public API of the TypeScript trace-context codec. See README.md in this folder and
// test/vectors/README.md (the contract shared with the AssemblyScript codec).
import { newSpanId, newTraceId } from './ids.ts';
import type { TraceContext } from './types.ts';

export {
  type HeaderGetter,
  type HeaderSetter,
  headersFromNode,
  headersFromPairs,
  headersFromRawList,
  pairSetter,
  recordSetter,
} from './carriers.ts';
export { type ExtractResult, extract } from './extract.ts';
export { TRACE_HEADER_NAMES, isTraceHeader } from './headers.ts';
export { isValidSpanId, isValidTraceId, newSpanId, newTraceId } from './ids.ts';
export { inject, outboundTracestate } from './inject.ts';
export {
  getExtractedTraceContext,
  MeshtracePropagator,
  type MeshtracePropagatorOptions,
} from './otel-propagator.ts';
export { type Parsed, REASONS, type Reason, isReason } from './reasons.ts';
export { type TranslateOptions, type TranslateResult, translate } from './translate.ts';
export {
  DEFAULT_FORMATS,
  type SpanIds,
  TRACE_FORMATS,
  type TraceContext,
  type TraceFormat,
  isTraceFormat,
} from './types.ts';
export { parseB3Single, parseB3Multi, formatB3Single, formatB3Multi } from './b3.ts';
export { parseUberTraceId, formatUberTraceId } from './jaeger.ts';
export { formatBaggage, parseBaggageMember } from './w3c-baggage.ts';
export {
  TRACEPARENT,
  TRACERESPONSE,
  formatTraceparent,
  formatTraceresponse,
  parseTraceparent,
  parseTraceresponse,
} from './w3c-traceparent.ts';
export { parseTracestate, TRACESTATE } from './w3c-tracestate.ts';

/**
 * A new root context: fresh random ids, so the W3C Level 2 `random` flag is set.
 * `sampled` is the caller's (sampler's) decision.
 */
export function newTraceContext(sampled: boolean | null, debug = false): TraceContext {
  return {
    traceId: newTraceId(),
    spanId: newSpanId(),
    sampled: debug ? true : sampled,
    debug,
    random: true,
    tracestate: '',
    baggage: [],
  };
}
