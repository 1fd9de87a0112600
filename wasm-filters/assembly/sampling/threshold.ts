// Consistent probability arithmetic (OpenTelemetry "TraceState: Probability Sampling"), the AS
// mirror of core/sampling/threshold.ts:
//
//   0 ─────────────── T ───────────────── 2^56
//   |   rejected R    |     kept R        |      (kept share = p)
//
//   R: `ot=rv:<14 hex>` when present, else the trace id's last 14 hex digits (lower 56 bits)
//   T: 2^56 − round(p · 2^56), rounded to `precision` significant hex digits; keep ⇔ R ≥ T
// u64 holds 56 bits exactly. NEVER (u64 max) stands for "no threshold" (p = 0).

export const MAX_THRESHOLD: u64 = 1 << 56;
export const NEVER: u64 = u64.MAX_VALUE;

export function probabilityToThreshold(p: f64, precision: i32): u64 {
  if (!(p > 0)) return NEVER;
  if (p >= 1) return 0;
  const exact = MAX_THRESHOLD - <u64>Math.round(p * 72057594037927936.0);
  const digits = min(14, max(1, precision));
  const dropBits = <u64>((14 - digits) * 4);
  const unit: u64 = (<u64>1) << dropBits;
  let rounded = ((exact + unit / 2) >> dropBits) << dropBits;
  if (rounded >= MAX_THRESHOLD) rounded = MAX_THRESHOLD - unit; // p > 0 never rounds to "never"
  return rounded;
}

const HEX = '0123456789abcdef';

/** `th` text: 14 hex digits with trailing zeros removed, "0" for T = 0. */
export function encodeThreshold(t: u64): string {
  if (t == 0) return '0';
  let s = '';
  for (let i = 13; i >= 0; i--) s += HEX.charAt(<i32>((t >> <u64>(i * 4)) & 15));
  let end = s.length;
  while (end > 1 && s.charCodeAt(end - 1) == 0x30) end--;
  return s.substring(0, end);
}

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Lowercase hex digits of s[from, to) as a number, or -1 (as u64 max) when not hex. */
function parseHex(s: string, from: i32, to: i32): u64 {
  let v: u64 = 0;
  for (let i = from; i < to; i++) {
    const d = hexVal(s.charCodeAt(i));
    if (d < 0) return NEVER;
    v = (v << 4) | <u64>d;
  }
  return v;
}

/** R for a trace: a valid 14-hex `rv` wins, else the trace id's lower 56 bits; NEVER when malformed. */
export function randomnessOf(traceId: string, rv: string): u64 {
  if (rv.length == 14) {
    const r = parseHex(rv, 0, 14);
    if (r != NEVER) return r;
  }
  if (traceId.length != 32 || parseHex(traceId, 0, 32 - 14) == NEVER) return NEVER;
  return parseHex(traceId, 18, 32);
}

export function keeps(r: u64, t: u64): bool {
  return t != NEVER && r != NEVER && r >= t;
}

function isHex(s: string, minLen: i32, maxLen: i32): bool {
  if (s.length < minLen || s.length > maxLen) return false;
  return parseHex(s, 0, s.length) != NEVER;
}

/** The `ot` member of a tracestate, split into th, rv and the other sub-keys. */
// Shared by every OtState without other sub-keys (the usual case): never pushed to.
const NO_REST: string[] = [];

export class OtState {
  th: string = '';
  rv: string = '';
  rest: string[] = NO_REST;
}

// What readOt returns for a tracestate without an `ot` member (callers only read it).
const NO_OT = new OtState();

export function readOt(tracestate: string): OtState {
  if (!tracestate.includes('ot=')) return NO_OT;
  const out = new OtState();
  const members = tracestate.split(',');
  for (let i = 0; i < members.length; i++) {
    const m = members[i].trim();
    if (!m.startsWith('ot=')) continue;
    const pairs = m.substring(3).split(';');
    for (let j = 0; j < pairs.length; j++) {
      const pair = pairs[j];
      const c = pair.indexOf(':');
      if (c <= 0) continue;
      const k = pair.substring(0, c);
      const v = pair.substring(c + 1);
      if (k == 'th') {
        if (isHex(v, 1, 14)) out.th = v;
      } else if (k == 'rv') {
        if (isHex(v, 14, 14)) out.rv = v;
      } else {
        if (out.rest === NO_REST) out.rest = [];
        out.rest.push(pair);
      }
    }
    break;
  }
  return out;
}

/** tracestate with ot's th set ("" erases it), `ot` moved to the front, at most 32 members. */
export function writeOtThreshold(tracestate: string, th: string): string {
  if (tracestate.length == 0) return th.length == 0 ? '' : 'ot=th:' + th;
  const ot = readOt(tracestate);
  const parts: string[] = [];
  if (th.length > 0) parts.push('th:' + th);
  if (ot.rv.length > 0) parts.push('rv:' + ot.rv);
  for (let i = 0; i < ot.rest.length; i++) parts.push(ot.rest[i]);
  const out: string[] = [];
  if (parts.length > 0) out.push('ot=' + parts.join(';'));
  const members = tracestate.split(',');
  for (let i = 0; i < members.length && out.length < 32; i++) {
    const m = members[i].trim();
    if (m.length > 0 && !m.startsWith('ot=')) out.push(m);
  }
  return out.join(',');
}

/** tracestate without its `ot` member (an untrusted edge drops client-chosen rv/th). */
export function withoutOt(tracestate: string): string {
  if (!tracestate.includes('ot=')) return tracestate;
  const members = tracestate.split(',');
  const out: string[] = [];
  for (let i = 0; i < members.length; i++) {
    const m = members[i].trim();
    if (m.length > 0 && !m.startsWith('ot=')) out.push(m);
  }
  return out.join(',');
}
