// Id helpers shared by every format: W3C, B3 and Jaeger all carry 128-bit trace ids and 64-bit
// span ids as hex, with all-zero meaning "invalid".
import { randomBytes } from 'node:crypto';

export const TRACE_ID_HEX = 32;
export const SPAN_ID_HEX = 16;
const ZERO_TRACE_ID = '0'.repeat(TRACE_ID_HEX);
const ZERO_SPAN_ID = '0'.repeat(SPAN_ID_HEX);

function isHexCode(c: number, upperToo: boolean): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (upperToo && c >= 0x41 && c <= 0x46);
}

/** Every character is 0-9 or a-f (the W3C and B3 rule); the empty string is not hex. */
export function isLowerHex(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHexCode(s.charCodeAt(i), false)) return false;
  return true;
}

/** Hex in either case (Jaeger clients write both). */
export function isAnyCaseHex(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHexCode(s.charCodeAt(i), true)) return false;
  return true;
}

export function isAllZero(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x30) return false;
  return true;
}

/** Left-pads with zeros: a 64-bit B3/Jaeger trace id becomes the 128-bit form W3C requires. */
export function padHex(s: string, width: number): string {
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

export function isValidTraceId(s: string): boolean {
  return s.length === TRACE_ID_HEX && isLowerHex(s) && s !== ZERO_TRACE_ID;
}

export function isValidSpanId(s: string): boolean {
  return s.length === SPAN_ID_HEX && isLowerHex(s) && s !== ZERO_SPAN_ID;
}

function randomHex(bytes: number): string {
  // All-zero is the invalid id in every format; redraw (probability 2^-64 or less).
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!isAllZero(hex)) return hex;
  }
}

/** A random 128-bit trace id (all 16 bytes random, so the W3C `random` flag may be set). */
export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
