// Zipkin B3 propagation (openzipkin/b3-propagation README): the single `b3` header and the
// multi-header `X-B3-*` form. Ids are lowercase hex; 64-bit trace ids are widened to 128 bits.
import { type HeaderGetter, joinedValue } from './carriers.ts';
import { isAllZero, isLowerHex, padHex, TRACE_ID_HEX } from './ids.ts';
import { accept, type Parsed, refuse } from './reasons.ts';
import type { SpanIds } from './types.ts';

export const B3 = 'b3';
export const X_B3_TRACEID = 'x-b3-traceid';
export const X_B3_SPANID = 'x-b3-spanid';
export const X_B3_PARENTSPANID = 'x-b3-parentspanid';
export const X_B3_SAMPLED = 'x-b3-sampled';
export const X_B3_FLAGS = 'x-b3-flags';

const isTraceIdLength = (s: string) => s.length === 16 || s.length === 32;

/** `traceid-spanid[-sampling[-parentspanid]]`, or a lone sampling state (no context). */
export function parseB3Single(value: string): Parsed<SpanIds> {
  if (value === '0' || value === '1' || value === 'd') return refuse('b3_sampling_only');
  const fields = value.split('-');
  if (fields.length < 2 || fields.length > 4) return refuse('b3_malformed');
  const [traceId, spanId, sampling, parent] = fields as [string, string, string | undefined, string | undefined];
  if (!isTraceIdLength(traceId) || spanId.length !== 16 || (parent !== undefined && parent.length !== 16)) {
    return refuse('b3_malformed');
  }
  if (!isLowerHex(traceId) || !isLowerHex(spanId) || (parent !== undefined && !isLowerHex(parent))) {
    return refuse('b3_invalid_hex');
  }
  if (isAllZero(traceId) || isAllZero(spanId)) return refuse('b3_zero_id');
  let sampled: boolean | null = null;
  let debug = false;
  if (sampling === '1') sampled = true;
  else if (sampling === '0') sampled = false;
  else if (sampling === 'd') {
    sampled = true; // debug implies an accept decision
    debug = true;
  } else if (sampling !== undefined) return refuse('b3_invalid_sampling');
  return accept({ traceId: padHex(traceId, TRACE_ID_HEX), spanId, sampled, debug, random: false });
}

export function readB3Single(getter: HeaderGetter): Parsed<SpanIds> | null {
  const value = joinedValue(getter, B3);
  return value === null ? null : parseB3Single(value);
}

export interface B3MultiValues {
  traceId: string | null;
  spanId: string | null;
  sampled: string | null;
  flags: string | null;
}

/** The X-B3-* headers' values; null when neither id is present (a lone X-B3-Sampled carries no context). */
export function parseB3Multi(v: B3MultiValues): Parsed<SpanIds> | null {
  if (v.traceId === null && v.spanId === null) return null;
  if (v.traceId === null || v.spanId === null) return refuse('b3multi_incomplete');
  if (!isTraceIdLength(v.traceId) || !isLowerHex(v.traceId) || v.spanId.length !== 16 || !isLowerHex(v.spanId)) {
    return refuse('b3multi_invalid_id');
  }
  if (isAllZero(v.traceId) || isAllZero(v.spanId)) return refuse('b3multi_zero_id');
  let sampled: boolean | null = null;
  if (v.sampled === '1' || v.sampled === 'true') sampled = true;
  else if (v.sampled === '0' || v.sampled === 'false') sampled = false;
  else if (v.sampled !== null) return refuse('b3multi_invalid_sampled');
  const debug = v.flags === '1';
  return accept({
    traceId: padHex(v.traceId, TRACE_ID_HEX),
    spanId: v.spanId,
    sampled: debug ? true : sampled,
    debug,
    random: false,
  });
}

export function readB3Multi(getter: HeaderGetter): Parsed<SpanIds> | null {
  return parseB3Multi({
    traceId: joinedValue(getter, X_B3_TRACEID),
    spanId: joinedValue(getter, X_B3_SPANID),
    sampled: joinedValue(getter, X_B3_SAMPLED),
    flags: joinedValue(getter, X_B3_FLAGS),
  });
}

/** `b3` value: no sampling state when undecided, `d` for debug. */
export function formatB3Single(ids: SpanIds): string {
  const base = `${ids.traceId}-${ids.spanId}`;
  if (ids.debug) return `${base}-d`;
  if (ids.sampled === null) return base;
  return `${base}-${ids.sampled ? '1' : '0'}`;
}

/** X-B3-* pairs; X-B3-Sampled is omitted for debug because X-B3-Flags: 1 already implies it. */
export function formatB3Multi(ids: SpanIds): [string, string][] {
  const out: [string, string][] = [
    [X_B3_TRACEID, ids.traceId],
    [X_B3_SPANID, ids.spanId],
  ];
  if (ids.debug) out.push([X_B3_FLAGS, '1']);
  else if (ids.sampled !== null) out.push([X_B3_SAMPLED, ids.sampled ? '1' : '0']);
  return out;
}
