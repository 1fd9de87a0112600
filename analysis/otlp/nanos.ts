// OTLP times are fixed64 nanoseconds since the Unix epoch; the span model keeps microseconds as
// numbers. Exact conversion without BigInt: with hi/lo the unsigned 32-bit halves,
//   ns = hi·2^32 + lo = 1000·(hi·4294967) + (hi·296 + lo)       (2^32 = 4294967·1000 + 296)
//   µs = floor(ns / 1000) = hi·4294967 + floor((hi·296 + lo) / 1000)
// and every intermediate stays below 2^53. JSON carries the same value as a decimal string (or a
// number, which may already have lost nanosecond precision).
import type { Int64, LongLike } from './decoded.ts';

const DIGITS = /^\d+$/;

/** Microseconds from an OTLP nanosecond timestamp; null when absent, zero or malformed. */
export function nanosToMicros(v: Int64 | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  let us: number;
  if (typeof v === 'string') {
    if (!DIGITS.test(v)) return null;
    us = v.length <= 3 ? 0 : Number(v.slice(0, -3));
    if (us === 0 && Number(v) === 0) return null;
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return null;
    us = Math.floor(v / 1000);
  } else if (typeof v === 'object' && typeof (v as LongLike).low === 'number') {
    return microsFromHalves((v as LongLike).low, (v as LongLike).high);
  } else {
    return null;
  }
  return Number.isSafeInteger(us) && us > 0 ? us : null;
}

/** nanosToMicros for a fixed64 given as its 32-bit halves (as read off the wire or from a Long). */
export function microsFromHalves(low: number, high: number): number | null {
  const hi = high >>> 0;
  const lo = low >>> 0;
  if (hi === 0 && lo === 0) return null;
  const us = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  return Number.isSafeInteger(us) && us > 0 ? us : null;
}

/** A signed int64 attribute value: a number when exactly representable, else its decimal string. */
export function int64Value(v: Int64): number | string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    if (!/^-?\d+$/.test(v)) return null;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  if (typeof v === 'object' && v !== null && typeof v.low === 'number')
    return int64FromHalves(v.low, v.high, v.unsigned);
  return null;
}

/** int64Value for an int64 given as its 32-bit halves (`high` signed unless `unsigned`). */
export function int64FromHalves(low: number, high: number, unsigned = false): number | string {
  const n = unsigned ? (high >>> 0) * 4294967296 + (low >>> 0) : (high | 0) * 4294967296 + (low >>> 0);
  if (Number.isSafeInteger(n)) return n;
  return (BigInt(unsigned ? high >>> 0 : high | 0) * 4294967296n + BigInt(low >>> 0)).toString();
}
