// Character classes and small string helpers shared by the codecs. All work on UTF-16 code
// units of strings decoded from header bytes; every grammar here is ASCII-only, so anything
// non-ASCII simply fails the class tests.

export function isLowerHexChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

export function isAnyHexChar(c: i32): bool {
  return isLowerHexChar(c) || (c >= 0x41 && c <= 0x46);
}

/** Every character of s[from, to) is lowercase hex. */
export function isLowerHex(s: string, from: i32 = 0, to: i32 = -1): bool {
  const end = to < 0 ? s.length : to;
  for (let i = from; i < end; i++) if (!isLowerHexChar(s.charCodeAt(i))) return false;
  return true;
}

export function isAnyHex(s: string): bool {
  for (let i = 0; i < s.length; i++) if (!isAnyHexChar(s.charCodeAt(i))) return false;
  return true;
}

/** Every character is '0' (callers have checked the id is hex). */
export function isZeros(s: string): bool {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) != 0x30) return false;
  return true;
}

export function isOws(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** Removes optional whitespace (space / tab) at both ends. */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isOws(s.charCodeAt(a))) a++;
  while (b > a && isOws(s.charCodeAt(b - 1))) b--;
  return a == 0 && b == s.length ? s : s.substring(a, b);
}

export function isLcAlpha(c: i32): bool {
  return c >= 0x61 && c <= 0x7a;
}

export function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** RFC 9110 tchar (token characters). */
export function isTchar(c: i32): bool {
  if (isDigit(c) || isLcAlpha(c) || (c >= 0x41 && c <= 0x5a)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    c == 0x21 ||
    (c >= 0x23 && c <= 0x27) ||
    c == 0x2a ||
    c == 0x2b ||
    c == 0x2d ||
    c == 0x2e ||
    c == 0x5e ||
    c == 0x5f ||
    c == 0x60 ||
    c == 0x7c ||
    c == 0x7e
  );
}

export function leftPad(s: string, width: i32): string {
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Hex digits as a number (caller has checked they are hex and at most 8 of them). */
/**
 * The leading ASCII decimal digits of `s` as an integer (0 when there are none), wrapping like
 * the standard library's parseInt. Those would link three strtol variants (~1 KB of filter) for
 * inputs that are only ever digits here (:status, ports, regex repetition bounds).
 */
export function parseDecimal(s: string): i64 {
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + <i64>(c - 0x30);
  }
  return v;
}

/** parseHex over s[start, end), without the substring. */
export function parseHexAt(s: string, start: i32, end: i32): u32 {
  let v: u32 = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const d = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
    v = (v << 4) | (d as u32);
  }
  return v;
}

export function parseHex(s: string): u32 {
  let v: u32 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
    v = (v << 4) | (d as u32);
  }
  return v;
}

/** Lower-cases ASCII letters only (String#toLowerCase would pull in Unicode case tables). */
export function asciiLower(s: string): string {
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
    i++;
  }
  if (i == s.length) return s;
  let out = s.substring(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return out;
}

/** A string of `count` code units written by the caller (no concatenation garbage). */
export function rawString(count: i32): string {
  return changetype<string>(__new((<usize>count) << 1, idof<string>()));
}

const HEX_DIGITS = '0123456789abcdef';

/** Lower-case hex of `count` bytes at `ptr`. */
export function bytesToHex(ptr: usize, count: i32): string {
  const out = rawString(count * 2);
  const base = changetype<usize>(out);
  for (let i = 0; i < count; i++) {
    const b = load<u8>(ptr + i) as i32;
    store<u16>(base + (i << 2), HEX_DIGITS.charCodeAt(b >> 4));
    store<u16>(base + (i << 2) + 2, HEX_DIGITS.charCodeAt(b & 0xf));
  }
  return out;
}

/** `s.split(sep)` for a one-character separator (String#split is general and larger). */
export function splitOn(s: string, sep: i32): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) == sep) {
      out.push(s.substring(start, i));
      start = i + 1;
    }
  }
  out.push(s.substring(start));
  return out;
}

/** Lowercase hex (even length, already validated) to bytes: the inverse of bytesToHex. */
export function hexToBytes(hex: string): ArrayBuffer {
  const n = hex.length >> 1;
  const out = new ArrayBuffer(n);
  const p = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    store<u8>(p + i, <u8>((hi << 4) | lo));
  }
  return out;
}

function hexNibble(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return 0;
}
