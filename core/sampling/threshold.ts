// Consistent probability sampling arithmetic (OpenTelemetry "TraceState: Probability Sampling").
//
//   randomness R ─ 56 bits: `ot=rv:<14 hex>` when present, else the trace id's last 14 hex
//                  digits (the W3C Level-2 `random` flag promises these are uniformly random)
//   threshold  T ─ 56 bits, the rejection threshold: T = (1 - p) · 2^56
//   decision     ─ keep  ⇔  R ≥ T          (T = 0 keeps all; "never" has no threshold)
//
//   0 ─────────────── T ───────────────── 2^56
//   |   rejected R    |     kept R        |      (kept share = p)
//
// `th` is T written as 14 hex digits with trailing zeros removed ("0" for T = 0), so hops with
// the same p and the same trace id reach the same decision and a collector can re-weight by
// 1/p. BigInt because 56 bits exceed a double's 53-bit integer range; the AS filter uses u64.

export const MAX_THRESHOLD = 1n << 56n;
const HEX14 = /^[0-9a-f]{14}$/;
const TH = /^[0-9a-f]{1,14}$/;

/** The rejection threshold for probability `p` rounded to `precision` significant hex digits; null when p = 0. */
export function probabilityToThreshold(p: number, precision = 4): bigint | null {
  if (!(p > 0)) return null;
  if (p >= 1) return 0n;
  // p · 2^56 is exact in a double (a power-of-two scale); subtracting in BigInt avoids the
  // rounding error of computing (1 − p) first.
  const exact = MAX_THRESHOLD - BigInt(Math.round(p * 2 ** 56));
  const digits = Math.min(14, Math.max(1, Math.trunc(precision)));
  const dropBits = BigInt((14 - digits) * 4);
  const unit = 1n << dropBits;
  let rounded = ((exact + unit / 2n) >> dropBits) << dropBits;
  if (rounded >= MAX_THRESHOLD) rounded = MAX_THRESHOLD - unit; // never round p > 0 down to "never"
  return rounded;
}

/** Effective sampling probability of threshold `t` (adjusted count = 1 / this). */
export function thresholdToProbability(t: bigint): number {
  return Number(MAX_THRESHOLD - t) / 2 ** 56;
}

export function encodeThreshold(t: bigint): string {
  if (t === 0n) return '0';
  return t.toString(16).padStart(14, '0').replace(/0+$/, '');
}

/** Parses a `th` value; null when it is not 1–14 lowercase hex digits. */
export function decodeThreshold(th: string): bigint | null {
  if (!TH.test(th)) return null;
  return BigInt(`0x${th.padEnd(14, '0')}`);
}

/** R for a trace: explicit `rv` wins, else the trace id's lower 56 bits. Null for a malformed trace id. */
export function randomnessOf(traceId: string, rv?: string | null): bigint | null {
  if (rv && HEX14.test(rv)) return BigInt(`0x${rv}`);
  if (!/^[0-9a-f]{32}$/.test(traceId)) return null;
  return BigInt(`0x${traceId.slice(18)}`);
}

/** Every character is 0-9 or a-f (a loop: this runs on every request's head decision). */
function isLowerHexString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** The 14 hex digits R is read from (explicit rv, else the trace id's tail); null for a bad trace id. */
export function randomnessHex(traceId: string, rv?: string | null): string | null {
  if (rv && HEX14.test(rv)) return rv;
  if (traceId.length !== 32 || !isLowerHexString(traceId)) return null;
  return traceId.slice(18);
}

/**
 * R ≥ T without BigInt on the request path: both split into two 28-bit halves, which doubles
 * hold exactly, compared high half first.
 */
export function keepsHex(randomHex14: string, threshold: { hi: number; lo: number } | null): boolean {
  if (threshold === null) return false;
  const hi = hexInt(randomHex14, 0, 7);
  if (hi !== threshold.hi) return hi > threshold.hi;
  return hexInt(randomHex14, 7, randomHex14.length) >= threshold.lo;
}

/**
 * parseInt(s.slice(from, to), 16) for ≤ 7 hex digits, read on char codes (parseInt with a radix
 * goes through the runtime: it was 6 % of the tracing stage with cold caches); anything but a
 * hex digit falls back to parseInt itself.
 */
function hexInt(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const d =
      c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return Number.parseInt(s.slice(from, to), 16);
    v = v * 16 + d;
  }
  return to > from ? v : Number.NaN;
}

export function splitThreshold(t: bigint | null): { hi: number; lo: number } | null {
  return t === null ? null : { hi: Number(t >> 28n), lo: Number(t & 0xfffffffn) };
}

export function keeps(randomness: bigint, threshold: bigint | null): boolean {
  return threshold !== null && randomness >= threshold;
}

export interface OtTraceState {
  th: string | null;
  rv: string | null;
  /** Other `ot` sub-keys, kept verbatim in order. */
  rest: string[];
}

/** Reads the `ot` member of a (normalised) W3C tracestate. */
export function readOt(tracestate: string): OtTraceState {
  const out: OtTraceState = { th: null, rv: null, rest: [] };
  if (tracestate === '' || !tracestate.includes('ot=')) return out;
  for (const member of tracestate.split(',')) {
    const m = member.trim();
    if (!m.startsWith('ot=')) continue;
    for (const pair of m.slice(3).split(';')) {
      const i = pair.indexOf(':');
      if (i <= 0) continue;
      const k = pair.slice(0, i);
      const v = pair.slice(i + 1);
      if (k === 'th' && TH.test(v)) out.th = v;
      else if (k === 'rv' && HEX14.test(v)) out.rv = v;
      else if (k !== 'th' && k !== 'rv') out.rest.push(pair);
    }
    break;
  }
  return out;
}

/**
 * Returns `tracestate` with the `ot` member's `th` set to `th` (or erased when null), `ot` moved
 * to the front as W3C requires for a modified member, other members kept in order.
 */
export function writeOtThreshold(tracestate: string, th: string | null): string {
  if (tracestate === '') return th === null ? '' : `ot=th:${th}`;
  const ot = readOt(tracestate);
  const parts: string[] = [];
  if (th !== null) parts.push(`th:${th}`);
  if (ot.rv !== null) parts.push(`rv:${ot.rv}`);
  parts.push(...ot.rest);
  const others = tracestate
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '' && !m.startsWith('ot='));
  const otMember = parts.length > 0 ? [`ot=${parts.join(';')}`] : [];
  // W3C caps tracestate at 32 members: drop from the end when ours pushes it over.
  return [...otMember, ...others].slice(0, 32).join(',');
}
