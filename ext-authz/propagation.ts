// Trace headers in and out of the service, as OTel SpanContexts. The service speaks whatever
// formats the config lists (propagation.extract / inject).
import { type SpanContext, TraceFlags, isSpanContextValid } from '@opentelemetry/api';
import { first, type Headers } from './headers.ts';

export interface Propagation {
  /** The inbound parent, or undefined when none is present or valid. */
  extract(headers: Headers): SpanContext | undefined;
  /** Outbound header pairs for `sc` (names lower-case). */
  inject(sc: SpanContext): [string, string][];
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** W3C Trace Context §3.2 traceparent (version 00; higher versions read by prefix, §3.2.4). */
export function parseTraceparent(v: string | undefined): SpanContext | undefined {
  if (v === undefined) return undefined;
  const m = TRACEPARENT.exec(v.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const sc: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined;
}

export function w3cPropagation(): Propagation {
  return {
    extract(headers) {
      const sc = parseTraceparent(first(headers, 'traceparent'));
      if (!sc) return undefined;
      const ts = first(headers, 'tracestate');
      return ts ? { ...sc, traceState: undefined } : sc;
    },
    inject(sc) {
      const flags = (sc.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
      const out: [string, string][] = [['traceparent', `00-${sc.traceId}-${sc.spanId}-${flags}`]];
      return out;
    },
  };
}
