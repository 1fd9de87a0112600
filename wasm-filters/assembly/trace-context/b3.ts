// Zipkin B3 propagation: the single `b3` header and the multi-header form.
//
//   b3: {traceid}-{spanid}[-{sampling}[-{parentspanid}]]   or a lone sampling state 0 | 1 | d
//       16|32 hex  16 hex    0|1|d       16 hex
import { isLowerHex, isZeros, leftPad, splitOn } from './chars';
import { ExtractResult, Sampled, TraceContext } from './context';

export function extractB3Single(value: string, result: ExtractResult): bool {
  if (value == '0' || value == '1' || value == 'd') {
    result.addReason('b3_sampling_only');
    result.orphanSampled = value == '0' ? Sampled.No : Sampled.Yes;
    result.orphanDebug = value == 'd';
    return false;
  }
  const parts = splitOn(value, 0x2d);
  if (parts.length < 2 || parts.length > 4) {
    result.addReason('b3_malformed');
    return false;
  }
  // One reason, the first failing check in the order shape → hex → zero → sampling.
  const hasParent = parts.length == 4;
  let reason = '';
  if (
    (parts[0].length != 16 && parts[0].length != 32) ||
    parts[1].length != 16 ||
    (hasParent && parts[3].length != 16)
  ) {
    reason = 'b3_malformed';
  } else if (!isLowerHex(parts[0]) || !isLowerHex(parts[1]) || (hasParent && !isLowerHex(parts[3]))) {
    reason = 'b3_invalid_hex';
  } else if (isZeros(parts[0]) || isZeros(parts[1])) {
    reason = 'b3_zero_id';
  }
  const ctx = new TraceContext();
  if (reason.length == 0 && parts.length >= 3) {
    const s = parts[2];
    if (s == '1') ctx.sampled = Sampled.Yes;
    else if (s == '0') ctx.sampled = Sampled.No;
    else if (s == 'd') {
      ctx.sampled = Sampled.Yes;
      ctx.debug = true;
    } else reason = 'b3_invalid_sampling';
  }
  if (reason.length > 0) {
    result.addReason(reason);
    return false;
  }
  ctx.traceId = leftPad(parts[0], 32);
  ctx.spanId = parts[1];
  result.context = ctx;
  return true;
}

/** x-b3-* headers; null arguments are absent headers. */
export function extractB3Multi(
  traceId: string | null,
  spanId: string | null,
  sampled: string | null,
  flags: string | null,
  result: ExtractResult,
): bool {
  if (traceId === null && spanId === null) return false;
  if (traceId === null || spanId === null) {
    result.addReason('b3multi_incomplete');
    return false;
  }
  const t = traceId as string;
  const s = spanId as string;
  if ((t.length != 16 && t.length != 32) || s.length != 16 || !isLowerHex(t) || !isLowerHex(s)) {
    result.addReason('b3multi_invalid_id');
    return false;
  }
  if (isZeros(t) || isZeros(s)) {
    result.addReason('b3multi_zero_id');
    return false;
  }
  const ctx = new TraceContext();
  if (sampled !== null) {
    const v = sampled as string;
    if (v == '1' || v == 'true') ctx.sampled = Sampled.Yes;
    else if (v == '0' || v == 'false') ctx.sampled = Sampled.No;
    else {
      result.addReason('b3multi_invalid_sampled');
      return false;
    }
  }
  if (flags !== null && (flags as string) == '1') {
    ctx.debug = true;
    ctx.sampled = Sampled.Yes;
  }
  ctx.traceId = leftPad(t, 32);
  ctx.spanId = s;
  result.context = ctx;
  return true;
}

export function formatB3Single(ctx: TraceContext): string {
  let out = ctx.traceId + '-' + ctx.spanId;
  if (ctx.debug) out += '-d';
  else if (ctx.sampled == Sampled.Yes) out += '-1';
  else if (ctx.sampled == Sampled.No) out += '-0';
  return out;
}
