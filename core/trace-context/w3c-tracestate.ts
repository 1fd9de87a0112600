// W3C Trace Context `tracestate` (Level 1 §3.3): vendor key/value list members.
import { type HeaderGetter, joinedValue, trimOws } from './carriers.ts';
import { accept, type Parsed, refuse } from './reasons.ts';

export const TRACESTATE = 'tracestate';
export const TRACESTATE_MAX_BYTES = 8192;
export const TRACESTATE_MAX_MEMBERS = 32;

// §3.3.1.3.1 key: simple-key / tenant-id "@" system-id.
const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const MULTI_TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// §3.3.1.3.2 value: 0*255(chr) nblk-chr; chr = 0x20 / nblk-chr; nblk-chr = 0x21-0x7E minus "," and "=".
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

export function isTracestateKey(key: string): boolean {
  return SIMPLE_KEY.test(key) || MULTI_TENANT_KEY.test(key);
}

export function isTracestateValue(value: string): boolean {
  return VALUE.test(value);
}

/**
 * Parses a (joined) tracestate value into its normalised form: members joined by "," with OWS
 * and empty members removed. Any problem drops the whole header (one reason), never the trace.
 */
export function parseTracestate(value: string): Parsed<string> {
  if (Buffer.byteLength(value, 'utf8') > TRACESTATE_MAX_BYTES) return refuse('tracestate_too_long');
  const members = value
    .split(',')
    .map(trimOws)
    .filter((m) => m.length > 0);
  if (members.length > TRACESTATE_MAX_MEMBERS) return refuse('tracestate_too_many_members');
  const seen = new Set<string>();
  for (const member of members) {
    const eq = member.indexOf('=');
    if (eq <= 0) return refuse('tracestate_invalid_member');
    const key = member.slice(0, eq);
    if (!isTracestateKey(key) || !isTracestateValue(member.slice(eq + 1))) return refuse('tracestate_invalid_member');
    if (seen.has(key)) return refuse('tracestate_duplicate_key');
    seen.add(key);
  }
  return accept(members.join(','));
}

/** Multiple tracestate headers are one list (RFC 9110 §5.3); null when absent. */
export function readTracestate(getter: HeaderGetter): Parsed<string> | null {
  const joined = joinedValue(getter, TRACESTATE);
  return joined === null ? null : parseTracestate(joined);
}
