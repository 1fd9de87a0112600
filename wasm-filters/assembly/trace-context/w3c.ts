// W3C Trace Context (Level 1, plus the Level 2 `random` flag): traceparent and tracestate.
//
//   traceparent (version 00, 55 chars):
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//   ^0 ^3                              ^36              ^53
//   separators at 2, 35, 52; a future version may append "-..." from index 55 on.
import {
  isDigit,
  rawString,
  isLcAlpha,
  isLowerHex,
  isLowerHexChar,
  isOws,
  isZeros,
  parseHexAt,
  trimOws,
  splitOn,
} from './chars';
import { HeaderPairs } from '../abi/headers';
import { headerJoined } from './carrier';
import { ExtractResult, Sampled, TraceContext } from './context';

export const TRACESTATE_MAX_BYTES = 8192;
export const TRACESTATE_MAX_MEMBERS = 32;

/** Parses one traceparent value into `ctx`; returns "" or the reason code. */
export function parseTraceparent(value: string, ctx: TraceContext): string {
  // Several values folded into one by the proxy look like a list.
  if (value.indexOf(',') >= 0) return 'traceparent_duplicate';
  // Order of checks (vectors README, Changes 2): shape, version, version length, hex, zero.
  if (value.length < 55) return 'traceparent_malformed';
  if (value.charCodeAt(2) != 0x2d || value.charCodeAt(35) != 0x2d || value.charCodeAt(52) != 0x2d) {
    return 'traceparent_malformed';
  }
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  if (!isLowerHexChar(v0) || !isLowerHexChar(v1) || (v0 == 0x66 && v1 == 0x66)) return 'traceparent_invalid_version';
  const isV0 = v0 == 0x30 && v1 == 0x30;
  if (isV0 && value.length != 55) return 'traceparent_malformed';
  if (value.length > 55 && value.charCodeAt(55) != 0x2d) return 'traceparent_malformed';
  if (!isLowerHex(value, 3, 35) || !isLowerHex(value, 36, 52) || !isLowerHex(value, 53, 55)) {
    return 'traceparent_invalid_hex';
  }
  const traceId = value.substring(3, 35);
  const spanId = value.substring(36, 52);
  if (isZeros(traceId)) return 'traceparent_zero_trace_id';
  if (isZeros(spanId)) return 'traceparent_zero_span_id';
  const flags = parseHexAt(value, 53, 55);
  ctx.traceId = traceId;
  ctx.spanId = spanId;
  ctx.sampled = (flags & 1) != 0 ? Sampled.Yes : Sampled.No;
  ctx.random = (flags & 2) != 0;
  return '';
}

/** Extracts a W3C context; returns true when valid. Reasons are appended to `result`. */
export function extractW3c(traceparents: i32, headers: HeaderPairs, result: ExtractResult): bool {
  if (traceparents == 0) return false;
  if (traceparents > 1) {
    result.addReason('traceparent_duplicate');
    return false;
  }
  // parseTraceparent writes only on success, so the result's own (still empty) context can take it.
  const ctx = result.context;
  const reason = parseTraceparent(headerJoined(headers, 'traceparent') as string, ctx);
  if (reason.length > 0) {
    result.addReason(reason);
    return false;
  }
  const tracestate = headerJoined(headers, 'tracestate');
  if (tracestate !== null) ctx.tracestate = normaliseTracestate(tracestate as string, result);
  return true;
}

/**
 * Validates a (possibly joined) tracestate and returns it normalised: members trimmed of OWS,
 * empty ones skipped, joined by ",". Any violation drops the whole header ("") with one reason.
 */
export function normaliseTracestate(value: string, result: ExtractResult): string {
  if (String.UTF8.byteLength(value) > TRACESTATE_MAX_BYTES) {
    result.addReason('tracestate_too_long');
    return '';
  }
  const parts = splitOn(value, 0x2c);
  const members: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const m = trimOws(parts[i]);
    if (m.length == 0) continue;
    members.push(m);
  }
  if (members.length > TRACESTATE_MAX_MEMBERS) {
    result.addReason('tracestate_too_many_members');
    return '';
  }
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    const eq = m.indexOf('=');
    if (eq <= 0 || !isTracestateKey(m.substring(0, eq)) || !isTracestateValue(m.substring(eq + 1))) {
      result.addReason('tracestate_invalid_member');
      return '';
    }
    const key = m.substring(0, eq);
    if (keys.includes(key)) {
      result.addReason('tracestate_duplicate_key');
      return '';
    }
    keys.push(key);
  }
  return members.join(',');
}

function isKeyChar(c: i32): bool {
  // lcalpha / DIGIT / "_" / "-" / "*" / "/"
  return isLcAlpha(c) || isDigit(c) || c == 0x5f || c == 0x2d || c == 0x2a || c == 0x2f;
}

/** `simple-key` or `tenant@system` (Trace Context §3.3.1.3.1). */
export function isTracestateKey(key: string): bool {
  const at = key.indexOf('@');
  if (at < 0) {
    if (key.length > 256 || !isLcAlpha(key.charCodeAt(0))) return false;
    for (let i = 1; i < key.length; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
    return true;
  }
  const tenant = key.substring(0, at);
  const system = key.substring(at + 1);
  if (tenant.length == 0 || tenant.length > 241 || system.length == 0 || system.length > 14) return false;
  const t0 = tenant.charCodeAt(0);
  if (!isLcAlpha(t0) && !isDigit(t0)) return false;
  for (let i = 1; i < tenant.length; i++) if (!isKeyChar(tenant.charCodeAt(i))) return false;
  if (!isLcAlpha(system.charCodeAt(0))) return false;
  for (let i = 1; i < system.length; i++) if (!isKeyChar(system.charCodeAt(i))) return false;
  return true;
}

/** 1–256 printable ASCII characters except "," and "=", not ending in a space. */
export function isTracestateValue(v: string): bool {
  if (v.length == 0 || v.length > 256) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c == 0x2c || c == 0x3d) return false;
  }
  return !isOws(v.charCodeAt(v.length - 1));
}

export function formatTraceparent(ctx: TraceContext): string {
  let flags: u32 = 0;
  if (ctx.sampled == Sampled.Yes || ctx.debug) flags |= 1;
  if (ctx.random) flags |= 2;
  if (ctx.traceId.length != 32 || ctx.spanId.length != 16) {
    return '00-' + ctx.traceId + '-' + ctx.spanId + '-0' + String.fromCharCode(0x30 + flags);
  }
  // Written in place: one allocation instead of five concatenations (this runs per request).
  //   00-<32 trace>-<16 span>-<2 flags>   → 55 UTF-16 code units
  const out = rawString(55);
  const p = changetype<usize>(out);
  store<u16>(p, 0x30);
  store<u16>(p, 0x30, 2);
  store<u16>(p, 0x2d, 4);
  memory.copy(p + 6, changetype<usize>(ctx.traceId), 64);
  store<u16>(p, 0x2d, 70);
  memory.copy(p + 72, changetype<usize>(ctx.spanId), 32);
  store<u16>(p, 0x2d, 104);
  store<u16>(p, 0x30, 106);
  store<u16>(p, 0x30 + flags, 108);
  return out;
}
