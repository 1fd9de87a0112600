// The header names this codec reads and writes, so a proxy can strip stale inbound trace headers
// before injecting its own (otherwise the next hop may pick the caller's context over ours).
import { B3, X_B3_FLAGS, X_B3_PARENTSPANID, X_B3_SAMPLED, X_B3_SPANID, X_B3_TRACEID } from './b3.ts';
import { UBER_TRACE_ID, UBERCTX_PREFIX } from './jaeger.ts';
import { BAGGAGE } from './w3c-baggage.ts';
import { TRACEPARENT } from './w3c-traceparent.ts';
import { TRACESTATE } from './w3c-tracestate.ts';

export const TRACE_HEADER_NAMES: readonly string[] = [
  TRACEPARENT,
  TRACESTATE,
  BAGGAGE,
  B3,
  X_B3_TRACEID,
  X_B3_SPANID,
  X_B3_PARENTSPANID,
  X_B3_SAMPLED,
  X_B3_FLAGS,
  UBER_TRACE_ID,
];

const NAMES: ReadonlySet<string> = new Set(TRACE_HEADER_NAMES);

/** True for any of TRACE_HEADER_NAMES and for `uberctx-*` (Jaeger baggage), in any case. */
export function isTraceHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return NAMES.has(lower) || lower.startsWith(UBERCTX_PREFIX);
}
