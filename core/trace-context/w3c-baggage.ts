// W3C Baggage (§3 header format): `key=value(;property)*` list members, plus the limits both
// codecs apply to every baggage source (the `baggage` header and Jaeger `uberctx-*` headers).
import { type HeaderGetter, joinedValue, trimOws } from './carriers.ts';
import { accept, type Parsed, type Reason, refuse } from './reasons.ts';

export const BAGGAGE = 'baggage';
export const BAGGAGE_MAX_MEMBERS = 64;
export const BAGGAGE_MAX_BYTES = 8192;

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// W3C Baggage §3.3.1.2 baggage-octet: printable ASCII minus space, DQUOTE, ",", ";" and "\".
const OCTETS = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function isBaggageKey(key: string): boolean {
  return TOKEN.test(key);
}

function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** A raw value: baggage-octets, percent-decoded as UTF-8. null when either rule is broken. */
export function decodeBaggageValue(raw: string): string | null {
  if (!OCTETS.test(raw)) return null;
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hi = hexNibble(raw.charCodeAt(i + 1));
    const lo = hexNibble(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    bytes.push(hi * 16 + lo);
    i += 2;
  }
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    return null; // not UTF-8: the member is malformed (test/vectors/README.md, Changes 5)
  }
}

/** Every UTF-8 byte outside baggage-octet, and "%" itself, as %XX. */
export function encodeBaggageValue(value: string): string {
  let out = '';
  for (const byte of utf8Encoder.encode(value)) {
    const keep =
      byte !== 0x25 &&
      (byte === 0x21 ||
        (byte >= 0x23 && byte <= 0x2b) ||
        (byte >= 0x2d && byte <= 0x3a) ||
        (byte >= 0x3c && byte <= 0x5b) ||
        (byte >= 0x5d && byte <= 0x7e));
    out += keep ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** One trimmed list member; properties (after the first ";") are dropped unread. */
export function parseBaggageMember(member: string): Parsed<[string, string]> {
  const semi = member.indexOf(';');
  const pair = semi < 0 ? member : member.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq < 0) return refuse('baggage_invalid_member');
  const key = trimOws(pair.slice(0, eq));
  const value = decodeBaggageValue(trimOws(pair.slice(eq + 1)));
  if (!isBaggageKey(key) || value === null) return refuse('baggage_invalid_member');
  return accept([key, value]);
}

/**
 * Collects baggage entries under the shared limits: a member is kept while fewer than 64 are
 * kept and the kept members' bytes plus one "," between them stay within 8192; the first member
 * past a limit ends collection with one `baggage_truncated`.
 */
export class BaggageCollector {
  readonly entries: [string, string][] = [];
  readonly reasons: Reason[] = [];
  private bytes = 0;
  private full = false;

  /** `cost` is the member's size as it appeared on the wire. */
  offer(member: Parsed<[string, string]>, cost: number): void {
    if (this.full) return;
    if (!member.ok) {
      this.reasons.push(member.reason);
      return;
    }
    const next = this.bytes + (this.entries.length > 0 ? 1 : 0) + cost;
    if (this.entries.length >= BAGGAGE_MAX_MEMBERS || next > BAGGAGE_MAX_BYTES) {
      this.full = true;
      this.reasons.push('baggage_truncated');
      return;
    }
    this.bytes = next;
    this.entries.push(member.value);
  }
}

/** Reads the `baggage` header(s) (joined as one list) into the collector. */
export function readBaggageHeader(getter: HeaderGetter, into: BaggageCollector): void {
  const joined = joinedValue(getter, BAGGAGE);
  if (joined === null) return;
  for (const raw of joined.split(',')) {
    const member = trimOws(raw);
    if (member.length === 0) continue;
    into.offer(parseBaggageMember(member), Buffer.byteLength(member, 'utf8'));
  }
}

/** The `baggage` header value for these entries ("" when none); same limits as on the way in. */
export function formatBaggage(entries: readonly (readonly [string, string])[]): string {
  const members: string[] = [];
  let bytes = 0;
  for (const [key, value] of entries) {
    if (!isBaggageKey(key)) continue;
    const member = `${key}=${encodeBaggageValue(value)}`;
    const next = bytes + (members.length > 0 ? 1 : 0) + member.length;
    if (members.length >= BAGGAGE_MAX_MEMBERS || next > BAGGAGE_MAX_BYTES) break;
    bytes = next;
    members.push(member);
  }
  return members.join(',');
}
