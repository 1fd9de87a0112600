// Translation at a proxy hop: extract whatever arrived, make the proxy's span the new parent,
// write the configured outbound formats. Trace id, sampled, debug, random, tracestate and
// baggage carry over; only the span id changes.
import type { HeaderGetter } from './carriers.ts';
import { type ExtractResult, extract } from './extract.ts';
import { newSpanId } from './ids.ts';
import { inject } from './inject.ts';
import { DEFAULT_FORMATS, type TraceContext, type TraceFormat } from './types.ts';

export interface TranslateOptions {
  /** Outbound formats to write. */
  formats: readonly TraceFormat[];
  /** The proxy's span id (16 hex); a random one when omitted. */
  spanId?: string;
  /** Accepted inbound formats in precedence order. */
  inbound?: readonly TraceFormat[];
}

export interface TranslateResult {
  extracted: ExtractResult;
  /** The outbound context (null when nothing valid arrived: the caller starts a new trace). */
  context: TraceContext | null;
  /** Outbound headers, lower-case names; null when nothing valid arrived. */
  headers: [string, string][] | null;
}

export function translate(getter: HeaderGetter, options: TranslateOptions): TranslateResult {
  const extracted = extract(getter, options.inbound ?? DEFAULT_FORMATS);
  if (!extracted.valid) return { extracted, context: null, headers: null };
  const context: TraceContext = { ...extracted.context, spanId: options.spanId ?? newSpanId() };
  return { extracted, context, headers: inject(context, options.formats) };
}
