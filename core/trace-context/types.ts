// The shapes every format is translated through.

export const TRACE_FORMATS = ['w3c', 'b3', 'b3multi', 'jaeger'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** Inbound precedence when none is configured (test/vectors/README.md, "Precedence"). */
export const DEFAULT_FORMATS: readonly TraceFormat[] = TRACE_FORMATS;

export function isTraceFormat(value: unknown): value is TraceFormat {
  return typeof value === 'string' && (TRACE_FORMATS as readonly string[]).includes(value);
}

export interface TraceContext {
  /** 32 lowercase hex, never all zero; 64-bit ids are left-padded with zeros. */
  traceId: string;
  /** 16 lowercase hex, never all zero. Extracted: the caller's span (our parent). */
  spanId: string;
  /** null = no decision yet (B3 deferred); debug implies true. */
  sampled: boolean | null;
  /** B3 `d` / `X-B3-Flags: 1` / Jaeger flag 0x02. */
  debug: boolean;
  /** W3C Trace Context Level 2 flag 0x02: the trace id's right 7 bytes are random. */
  random: boolean;
  /** Normalised W3C tracestate (members joined by ","), "" when none. */
  tracestate: string;
  /** Decoded baggage entries in order; properties dropped. */
  baggage: [string, string][];
}

/** The ids and flags one format carries, before tracestate and baggage are attached. */
export interface SpanIds {
  traceId: string;
  spanId: string;
  sampled: boolean | null;
  debug: boolean;
  random: boolean;
}
