// W3C Trace Context `traceparent` (Level 1 §3.2, Level 2 `random` flag) and the Level 2
// `traceresponse` header, which has the same grammar.
//
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//   ^0 ^3                              ^35              ^52 (55 chars for version 00)
import { type HeaderGetter, trimOws } from './carriers.ts';
import { accept, type Parsed, refuse } from './reasons.ts';
import type { SpanIds } from './types.ts';

export const TRACEPARENT = 'traceparent';
export const TRACERESPONSE = 'traceresponse';
const VERSION_00_LENGTH = 55;
const FLAG_SAMPLED = 0x01;
const FLAG_RANDOM = 0x02;

/** The value of a lower-case hex digit's char code, -1 for anything else. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Every char code in [from, to) is lower-case hex. */
function lowerHexRange(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexValue(value.charCodeAt(i)) < 0) return false;
  return true;
}

/** Every char code in [from, to) is '0'. */
function zeroRange(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (value.charCodeAt(i) !== 0x30) return false;
  return true;
}

const DASH = 0x2d;

/**
 * Parses one trimmed traceparent (or traceresponse) value. Checked on char codes in place, so a
 * request's traceparent costs two slices (the ids), not five (this runs on every request).
 */
export function parseTraceparent(value: string): Parsed<SpanIds> {
  if (
    value.length < VERSION_00_LENGTH ||
    value.charCodeAt(2) !== DASH ||
    value.charCodeAt(35) !== DASH ||
    value.charCodeAt(52) !== DASH
  ) {
    return refuse('traceparent_malformed');
  }
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  // §3.2.2.1: version ff is forbidden; a higher version is parsed with the 00 field layout.
  if (hexValue(v0) < 0 || hexValue(v1) < 0 || (v0 === 0x66 && v1 === 0x66)) {
    return refuse('traceparent_invalid_version');
  }
  const version00 = v0 === 0x30 && v1 === 0x30;
  if (version00 ? value.length !== VERSION_00_LENGTH : value.length > 55 && value.charCodeAt(55) !== DASH) {
    return refuse('traceparent_malformed');
  }
  const f0 = hexValue(value.charCodeAt(53));
  const f1 = hexValue(value.charCodeAt(54));
  if (!lowerHexRange(value, 3, 35) || !lowerHexRange(value, 36, 52) || f0 < 0 || f1 < 0) {
    return refuse('traceparent_invalid_hex');
  }
  if (zeroRange(value, 3, 35)) return refuse('traceparent_zero_trace_id');
  if (zeroRange(value, 36, 52)) return refuse('traceparent_zero_span_id');
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const bits = f0 * 16 + f1;
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
