// Operation keys for the learned call pattern: "which inbound operation calls which outbound
// operation". A key is a 32-bit FNV-1a hash of `METHOD authority /path/template`, where every
// path segment holding a digit becomes `*` (ids, versions, hashes: /stock/42 and /stock/77 are
// one operation) and the query is ignored. Only hashes are kept in shared data: fixed-size
// records, and no client-controlled text stored. A collision merges two operations' patterns,
// which can only make a hard constraint looser (never excludes a true parent by itself).

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;
/** Longest path prefix hashed: a longer path is one operation per prefix. */
const PATH_MAX = 256;

function mix(h: u32, c: u32): u32 {
  return (h ^ c) * FNV_PRIME;
}

function mixString(h: u32, s: string): u32 {
  for (let i = 0; i < s.length; i++) h = mix(h, <u32>s.charCodeAt(i));
  return h;
}

/** The key of a request; `authority` is "" on the inbound side (it is always this workload). */
export function operationKey(method: string, authority: string, path: string): u32 {
  let h = mixString(FNV_OFFSET, method);
  h = mix(h, 0x20);
  h = mixString(h, authority);
  h = mix(h, 0x20);
  const end = min(path.length, PATH_MAX);
  let segStart = 0;
  let digit = false;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? <u32>path.charCodeAt(i) : 0x2f;
    if (c == 0x3f || c == 0x23) {
      // Query or fragment: not part of the operation.
      h = flushSegment(h, path, segStart, i, digit);
      return h;
    }
    if (c == 0x2f) {
      if (i > 0 || segStart < i) h = flushSegment(h, path, segStart, i, digit);
      if (i < end) h = mix(h, 0x2f);
      segStart = i + 1;
      digit = false;
    } else if (c >= 0x30 && c <= 0x39) digit = true;
  }
  return h;
}

function flushSegment(h: u32, path: string, from: i32, to: i32, digit: bool): u32 {
  if (digit) return mix(h, 0x2a);
  for (let i = from; i < to; i++) h = mix(h, <u32>path.charCodeAt(i));
  return h;
}

/** Values kept per request: enough for the ids a path carries, bounded for fixed-size records. */
export const MAX_VALUES = 4;

/**
 * FNV-1a hashes of the path segments that hold a digit (what operationKey() turns into `*`):
 * the ids a request carries, which an app often passes on to the calls it makes
 * (/order/42 → /item/42). Query and fragment are left out; at most MAX_VALUES.
 */
export function pathValues(path: string): u32[] {
  const out: u32[] = [];
  const end = min(path.length, PATH_MAX);
  let h = FNV_OFFSET;
  let digit = false;
  let len = 0;
  for (let i = 0; i <= end && out.length < MAX_VALUES; i++) {
    const c = i < end ? <u32>path.charCodeAt(i) : 0x2f;
    if (c == 0x2f || c == 0x3f || c == 0x23) {
      if (digit && len > 0) out.push(h);
      if (c != 0x2f) break;
      h = FNV_OFFSET;
      digit = false;
      len = 0;
    } else {
      h = mix(h, c);
      len++;
      if (c >= 0x30 && c <= 0x39) digit = true;
    }
  }
  return out;
}
