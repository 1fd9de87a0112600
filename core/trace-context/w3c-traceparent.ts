// W3C Trace Context `traceparent` (Level 1 §3.2, Level 2 `random` flag) and the Level 2
// `traceresponse` header, which has the same grammar.
//
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//   ^0 ^3                              ^35              ^52 (55 chars for version 00)
import { type HeaderGetter, trimOws } from './carriers.ts';
import { isAllZero, isLowerHex } from './ids.ts';
import { accept, type Parsed, refuse } from './reasons.ts';
import type { SpanIds } from './types.ts';

export const TRACEPARENT = 'traceparent';
export const TRACERESPONSE = 'traceresponse';
const VERSION_00_LENGTH = 55;
const FLAG_SAMPLED = 0x01;
const FLAG_RANDOM = 0x02;

/** Parses one trimmed traceparent (or traceresponse) value. */
export function parseTraceparent(value: string): Parsed<SpanIds> {
  if (value.length < VERSION_00_LENGTH || value[2] !== '-' || value[35] !== '-' || value[52] !== '-') {
    return refuse('traceparent_malformed');
  }
  const version = value.slice(0, 2);
  // §3.2.2.1: version ff is forbidden; a higher version is parsed with the 00 field layout.
  if (!isLowerHex(version) || version === 'ff') return refuse('traceparent_invalid_version');
  if (version === '00' ? value.length !== VERSION_00_LENGTH : value.length > 55 && value[55] !== '-') {
    return refuse('traceparent_malformed');
  }
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!isLowerHex(traceId) || !isLowerHex(spanId) || !isLowerHex(flags)) return refuse('traceparent_invalid_hex');
  if (isAllZero(traceId)) return refuse('traceparent_zero_trace_id');
  if (isAllZero(spanId)) return refuse('traceparent_zero_span_id');
  const bits = Number.parseInt(flags, 16);
  return accept({
    traceId,
    spanId,
    sampled: (bits & FLAG_SAMPLED) !== 0,
    debug: false,
    random: (bits & FLAG_RANDOM) !== 0,
  });
}

/** The traceparent format as headers: null when absent; duplicates (or a joined value) refused. */
export function readTraceparent(getter: HeaderGetter): Parsed<SpanIds> | null {
  const values = getter.get(TRACEPARENT);
  if (values.length === 0) return null;
  if (values.length > 1 || values[0]!.includes(',')) return refuse('traceparent_duplicate');
  return parseTraceparent(trimOws(values[0]!));
}

/** `00-<trace>-<span>-<flags>`; only the bits we understand are written (§3.2.2.5). */
export function formatTraceparent(ids: Pick<SpanIds, 'traceId' | 'spanId' | 'sampled' | 'debug' | 'random'>): string {
  const bits = (ids.sampled === true || ids.debug ? FLAG_SAMPLED : 0) | (ids.random ? FLAG_RANDOM : 0);
  return `00-${ids.traceId}-${ids.spanId}-0${bits.toString(16)}`;
}

/**
 * Trace Context Level 2 `traceresponse`: tells the caller which trace and span served it.
 * Same grammar as traceparent; the span is the server-side (here: the proxy's) span.
 */
export function formatTraceresponse(ids: Pick<SpanIds, 'traceId' | 'spanId' | 'sampled' | 'debug' | 'random'>): string {
  return formatTraceparent(ids);
}

export function parseTraceresponse(value: string): Parsed<SpanIds> {
  return parseTraceparent(trimOws(value));
}
