// W3C Baggage: `key OWS "=" OWS value *( ";" property )`, members separated by ",".
// Limits (W3C Baggage §3.3.1): 64 members, 8192 bytes. Limits count kept members only; the
// first member past a limit stops parsing (vectors README, Changes 5). Values are
// percent-decoded as UTF-8; properties are dropped.
import { isAnyHexChar, isTchar, parseHex, trimOws, splitOn } from './chars';
import { ExtractResult, NONE } from './context';

export const BAGGAGE_MAX_MEMBERS = 64;
export const BAGGAGE_MAX_BYTES = 8192;

/** baggage-octet: printable ASCII except space, '"', ',', ';', '\'. */
function isBaggageOctet(c: i32): bool {
  return (
    c == 0x21 ||
    (c >= 0x23 && c <= 0x2b) ||
    (c >= 0x2d && c <= 0x3a) ||
    (c >= 0x3c && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e)
  );
}

function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/** Percent-decodes as UTF-8; null when a "%" lacks two hex digits or the bytes are not UTF-8. */
export function percentDecode(s: string): string | null {
  if (s.indexOf('%') < 0) return s;
  const bytes = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x25) {
      if (i + 2 >= s.length) return null;
      if (!isAnyHexChar(s.charCodeAt(i + 1)) || !isAnyHexChar(s.charCodeAt(i + 2))) return null;
      bytes[n++] = parseHex(s.substring(i + 1, i + 3)) as u8;
      i += 2;
    } else {
      bytes[n++] = c as u8;
    }
  }
  if (!isUtf8(bytes, n)) return null;
  return String.UTF8.decodeUnsafe(bytes.dataStart, n);
}

/** Strict UTF-8 check (no overlongs, no surrogates, ≤ U+10FFFF). */
function isUtf8(b: Uint8Array, n: i32): bool {
  let i = 0;
  while (i < n) {
    const c = b[i] as u32;
    let extra = 0;
    let min: u32 = 0;
    let cp: u32 = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else return false;
    if (i + extra >= n) return false;
    for (let k = 1; k <= extra; k++) {
      const d = b[i + k] as u32;
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

/** Kept literal on output: baggage-octet minus "%" (the escape character itself). */
function isPlain(c: i32): bool {
  return isBaggageOctet(c) && c != 0x25;
}

/** Percent-encodes (uppercase %XX) every UTF-8 byte that is not a plain baggage-octet. */
export function percentEncode(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) plain = isPlain(s.charCodeAt(i));
  if (plain) return s;
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const digits = '0123456789ABCDEF';
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as i32;
    if (isPlain(b)) out += String.fromCharCode(b);
    else out += '%' + digits.charAt(b >> 4) + digits.charAt(b & 0xf);
  }
  return out;
}

/** Collects baggage entries across the `baggage` header and `uberctx-*` headers. */
export class BaggageReader {
  keys: string[] = NONE;
  values: string[] = NONE;
  private bytes: i32 = 0;
  private stopped: bool = false;

  constructor(private result: ExtractResult) {}

  /** Keeps an entry if it fits the limits; false (and one reason) once a limit is hit. */
  private keep(key: string, value: string, cost: i32): bool {
    if (this.stopped) return false;
    const separator = this.keys.length > 0 ? 1 : 0;
    if (this.keys.length >= BAGGAGE_MAX_MEMBERS || this.bytes + separator + cost > BAGGAGE_MAX_BYTES) {
      this.result.addReason('baggage_truncated');
      this.stopped = true;
      return false;
    }
    this.bytes += separator + cost;
    if (this.keys === NONE) {
      this.keys = [];
      this.values = [];
    }
    this.keys.push(key);
    this.values.push(value);
    return true;
  }

  /** A (joined) `baggage` header value. */
  readHeader(value: string): void {
    const parts = splitOn(value, 0x2c);
    for (let i = 0; i < parts.length && !this.stopped; i++) {
      const raw = trimOws(parts[i]);
      if (raw.length == 0) continue;
      const semi = raw.indexOf(';');
      const kv = semi >= 0 ? raw.substring(0, semi) : raw;
      const eq = kv.indexOf('=');
      if (eq < 0) {
        this.result.addReason('baggage_invalid_member');
        continue;
      }
      const key = trimOws(kv.substring(0, eq));
      const decoded = decodeValue(trimOws(kv.substring(eq + 1)));
      if (!isToken(key) || decoded === null) {
        this.result.addReason('baggage_invalid_member');
        continue;
      }
      this.keep(key, decoded as string, String.UTF8.byteLength(raw));
    }
  }

  /** One `uberctx-<key>` header: key is the rest of the (lower-cased) name. */
  readUberctx(key: string, rawValue: string): void {
    if (this.stopped) return;
    const decoded = decodeValue(rawValue);
    if (!isToken(key) || decoded === null) {
      this.result.addReason('baggage_invalid_member');
      return;
    }
    this.keep(key, decoded as string, String.UTF8.byteLength(key) + 1 + String.UTF8.byteLength(rawValue));
  }
}

function decodeValue(v: string): string | null {
  for (let k = 0; k < v.length; k++) if (!isBaggageOctet(v.charCodeAt(k))) return null;
  return percentDecode(v);
}
