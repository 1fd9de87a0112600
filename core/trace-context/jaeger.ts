// Jaeger native propagation (jaegertracing.io, "Propagation Format"):
//   uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}
// ids are unpadded hex in either case; clients may url-encode the colons. Baggage travels as one
// `uberctx-{key}` header per entry.
import { type HeaderGetter, joinedValue, trimOws } from './carriers.ts';
import { isAllZero, isAnyCaseHex, padHex, SPAN_ID_HEX, TRACE_ID_HEX } from './ids.ts';
import { accept, type Parsed, refuse } from './reasons.ts';
import type { SpanIds } from './types.ts';
import {
  type BaggageCollector,
  BAGGAGE_MAX_BYTES,
  BAGGAGE_MAX_MEMBERS,
  decodeBaggageValue,
  encodeBaggageValue,
  isBaggageKey,
} from './w3c-baggage.ts';

export const UBER_TRACE_ID = 'uber-trace-id';
export const UBERCTX_PREFIX = 'uberctx-';
const FLAG_SAMPLED = 0x01;
const FLAG_DEBUG = 0x02;
const ENCODED_COLON = /%3a/gi;

const isId = (s: string, maxHex: number) => s.length <= maxHex && isAnyCaseHex(s);

export function parseUberTraceId(value: string): Parsed<SpanIds> {
  const fields = value.replace(ENCODED_COLON, ':').split(':');
  if (fields.length !== 4) return refuse('jaeger_malformed');
  const [traceId, spanId, parentId, flags] = fields as [string, string, string, string];
  // The parent id is deprecated and unused, but a garbled one means a garbled header.
  if (!isId(traceId, TRACE_ID_HEX) || !isId(spanId, SPAN_ID_HEX) || !isId(parentId, SPAN_ID_HEX)) {
    return refuse('jaeger_invalid_id');
  }
  if (isAllZero(traceId) || isAllZero(spanId)) return refuse('jaeger_zero_id');
  if (flags.length > 2 || !isAnyCaseHex(flags)) return refuse('jaeger_invalid_flags');
  const bits = Number.parseInt(flags, 16);
  const debug = (bits & FLAG_DEBUG) !== 0;
  return accept({
    traceId: padHex(traceId.toLowerCase(), TRACE_ID_HEX),
    spanId: padHex(spanId.toLowerCase(), SPAN_ID_HEX),
    sampled: debug || (bits & FLAG_SAMPLED) !== 0,
    debug,
    random: false,
  });
}

export function readUberTraceId(getter: HeaderGetter): Parsed<SpanIds> | null {
  const value = joinedValue(getter, UBER_TRACE_ID);
  return value === null ? null : parseUberTraceId(value);
}

/** `uberctx-<key>` headers, in header order, into the shared baggage collector. */
export function readUberctxBaggage(getter: HeaderGetter, into: BaggageCollector): void {
  const keys = getter.keys();
  // Nearly every request carries no Jaeger baggage: find that out before allocating anything.
  let any = false;
  for (let i = 0; i < keys.length && !any; i++) any = hasUberctxPrefix(keys[i]!);
  if (!any) return;
  const names = keys.map((name) => name.toLowerCase());
  const occurrences = new Map<string, number>();
  for (const name of names)
    if (name.startsWith(UBERCTX_PREFIX)) occurrences.set(name, (occurrences.get(name) ?? 0) + 1);
  const used = new Map<string, number>();
  for (const name of names) {
    const count = occurrences.get(name);
    if (count === undefined) continue;
    const values = getter.get(name);
    const nth = used.get(name) ?? 0;
    used.set(name, nth + 1);
    // A list of pairs repeats the name once per value: take this occurrence's value so the
    // order across names is kept. A map-like carrier lists the name once: take all its values.
    const mine = values.length === count ? values.slice(nth, nth + 1) : nth === 0 ? values : [];
    const key = name.slice(UBERCTX_PREFIX.length);
    for (const rawValue of mine) {
      const raw = trimOws(rawValue);
      const value = decodeBaggageValue(raw);
      if (!isBaggageKey(key) || value === null) into.offer(refuse('baggage_invalid_member'), 0);
      else into.offer(accept([key, value]), key.length + 1 + raw.length);
    }
  }
}

/** `name` starts with `uberctx-` in any case, without lower-casing the whole name. */
function hasUberctxPrefix(name: string): boolean {
  if (name.length <= UBERCTX_PREFIX.length) return false;
  const c = name.charCodeAt(0);
  if (c !== 0x75 && c !== 0x55) return false; // 'u' / 'U': nearly every name stops here
  return name.slice(0, UBERCTX_PREFIX.length).toLowerCase() === UBERCTX_PREFIX;
}

export function formatUberTraceId(ids: SpanIds): string {
  const flags = ids.debug ? FLAG_DEBUG | FLAG_SAMPLED : ids.sampled === true ? FLAG_SAMPLED : 0;
  return `${ids.traceId}:${ids.spanId}:0:${flags.toString(16)}`;
}

/** One `uberctx-<key>` pair per entry, under the same limits as the baggage header. */
export function formatUberctx(entries: readonly (readonly [string, string])[]): [string, string][] {
  const out: [string, string][] = [];
  let bytes = 0;
  for (const [key, value] of entries) {
    const lower = key.toLowerCase();
    if (!isBaggageKey(lower)) continue;
    const encoded = encodeBaggageValue(value);
    const next = bytes + (out.length > 0 ? 1 : 0) + lower.length + 1 + encoded.length;
    if (out.length >= BAGGAGE_MAX_MEMBERS || next > BAGGAGE_MAX_BYTES) break;
    bytes = next;
    out.push([UBERCTX_PREFIX + lower, encoded]);
  }
  return out;
}
