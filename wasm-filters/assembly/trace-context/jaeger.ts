// Jaeger propagation: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}` (also
// url-encoded, ":" as %3A) and `uberctx-{key}` baggage headers. Ids are 1–32 / 1–16 hex digits
// in either case (Jaeger clients write both), normalised to padded lowercase.
import { asciiLower, isAnyHex, isZeros, leftPad, parseHex, trimOws, splitOn } from './chars';
import { ExtractResult, Sampled, TraceContext } from './context';

/** Undoes url-encoding of the separators only ("%3A" / "%3a" → ":"). */
function decodeColons(value: string): string {
  if (value.indexOf('%') < 0) return value;
  let out = '';
  let start = 0;
  for (let i = 0; i + 2 < value.length; i++) {
    if (value.charCodeAt(i) == 0x25 && value.charCodeAt(i + 1) == 0x33 && (value.charCodeAt(i + 2) | 0x20) == 0x61) {
      out += value.substring(start, i) + ':';
      start = i + 3;
      i += 2;
    }
  }
  return out + value.substring(start);
}

function validId(id: string, max: i32): bool {
  return id.length >= 1 && id.length <= max && isAnyHex(id);
}

export function extractJaeger(value: string, result: ExtractResult): bool {
  const parts = splitOn(decodeColons(trimOws(value)), 0x3a);
  if (parts.length != 4) {
    result.addReason('jaeger_malformed');
    return false;
  }
  if (!validId(parts[0], 32) || !validId(parts[1], 16) || !validId(parts[2], 16)) {
    result.addReason('jaeger_invalid_id');
    return false;
  }
  if (isZeros(parts[0]) || isZeros(parts[1])) {
    result.addReason('jaeger_zero_id');
    return false;
  }
  const f = parts[3];
  if (f.length == 0 || f.length > 2 || !isAnyHex(f)) {
    result.addReason('jaeger_invalid_flags');
    return false;
  }
  const flags = parseHex(f);
  const ctx = new TraceContext();
  ctx.traceId = leftPad(asciiLower(parts[0]), 32);
  ctx.spanId = leftPad(asciiLower(parts[1]), 16);
  ctx.debug = (flags & 2) != 0;
  ctx.sampled = (flags & 1) != 0 || ctx.debug ? Sampled.Yes : Sampled.No;
  result.context = ctx;
  return true;
}

export function formatUberTraceId(ctx: TraceContext): string {
  let flags: u32 = 0;
  if (ctx.sampled == Sampled.Yes || ctx.debug) flags |= 1;
  if (ctx.debug) flags |= 2;
  return ctx.traceId + ':' + ctx.spanId + ':0:' + String.fromCharCode(0x30 + flags);
}
