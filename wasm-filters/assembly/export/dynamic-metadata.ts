// The enrichment another filter left for this hop (the meshtrace ext_proc service in `metadata`
// mode: ext-authz/README.md "Modes") copied onto the filter's span, so a hop has one span, not
// two. Envoy keeps it as untyped dynamic metadata, namespace `meshtrace`, flat attribute keys.
//
// Read once at on_log through proxy_get_property(["metadata", "filter_metadata", "meshtrace"]).
// Measured against real Envoy 1.40: the google.protobuf.Struct reaches Wasm as a CEL map, which
// Envoy serialises in the Proxy-Wasm pairs layout (not as protobuf bytes):
//   u32 count, count × (u32 keyLen, u32 valueLen), then each key and value followed by one NUL
// (all little-endian). Each value is its CEL value serialised without a type tag: a string as its
// bytes, a number (double) as 8 bytes, a bool as 1 byte, a list as the same pairs layout with the
// elements as keys and empty values. Values are told apart by shape: text is text; 1 byte is a
// bool; a well-formed nested pairs block is a list of strings, joined with ", " the way HTTP
// combines repeated field lines (RFC 9110 §5.3); 8 bytes is a double. Nested structs are skipped.
import { WasmResult } from '../abi/enums';
import { encodeUtf8 } from '../abi/headers';
import * as imp from '../abi/imports';
import { asciiLower } from '../trace-context/chars';
import { MAX_ATTRIBUTE_CHARS, MAX_ATTRIBUTES, SpanRecord } from './span-record';

export const METADATA_NAMESPACE = 'meshtrace';
/** At most this many entries are copied, however many the namespace holds. */
export const MAX_METADATA_ENTRIES = 32;
// Slots left for what on_log adds after the HTTP attributes (sampling reason, kept_by, debug
// subject, threshold) and error.type, so a large namespace never pushes the filter's own facts off
// the span.
const RESERVED_SLOTS = 5;
// A namespace larger than this is not read at all: bounds the bytes decoded per request.
const MAX_NAMESPACE_BYTES = 64 * 1024;
const MAX_KEY_BYTES = 256;

const OUT: usize = memory.data(8);

// Never copied, whoever wrote them (defence in depth: the service already refuses them).
function isSecretKey(key: string): bool {
  // ASCII folding: String#toLowerCase would link Unicode case tables (~9 KB) into the filter.
  const k = asciiLower(key);
  return k.includes('authorization') || k.includes('cookie') || k.includes('token');
}

/** The namespace's bytes, or null when absent or not serialisable (never aborts: fail open). */
function readNamespace(): ArrayBuffer | null {
  const path = encodeUtf8('metadata\0filter_metadata\0' + METADATA_NAMESPACE);
  store<u32>(OUT, 0);
  store<u32>(OUT + 4, 0);
  const status = imp.proxy_get_property(changetype<usize>(path), path.byteLength, OUT, OUT + 4);
  const ptr = load<u32>(OUT) as usize;
  const size = load<u32>(OUT + 4) as i32;
  if (ptr == 0) return null;
  let out: ArrayBuffer | null = null;
  if (status == WasmResult.Ok && size > 0 && size <= MAX_NAMESPACE_BYTES) {
    const buf = new ArrayBuffer(size);
    memory.copy(changetype<usize>(buf), ptr, size);
    out = buf;
  }
  heap.free(ptr);
  return out;
}

/**
 * Offset of the first key/value byte of a pairs block at [base, base+size), or -1 when the block
 * is not well formed (count and lengths must add up to exactly `size`).
 */
function pairsDataStart(base: usize, size: i32): i32 {
  if (size < 4) return -1;
  const count = load<u32>(base);
  if (count == 0 || <u64>count * 8 + 4 > <u64>size) return -1;
  const start = 4 + <i32>count * 8;
  let total: u64 = <u64>start;
  for (let i: i32 = 0; i < <i32>count; i++) {
    total += <u64>load<u32>(base + 4 + <usize>i * 8) + <u64>load<u32>(base + 8 + <usize>i * 8) + 2;
  }
  return total == <u64>size ? start : -1;
}

function isText(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    const b = load<u8>(p + <usize>i);
    if (b < 0x20 || b == 0x7f) return false;
  }
  return true;
}

/** A list of strings as one string, or null when the value is not such a list. */
function stringList(p: usize, n: i32): string | null {
  const start = pairsDataStart(p, n);
  if (start < 0) return null;
  const count = <i32>load<u32>(p);
  let at = p + <usize>start;
  let out = '';
  for (let i = 0; i < count; i++) {
    const k = <i32>load<u32>(p + 4 + <usize>i * 8);
    const v = <i32>load<u32>(p + 8 + <usize>i * 8);
    if (v != 0 || !isText(at, k)) return null;
    if (out.length <= MAX_ATTRIBUTE_CHARS) {
      if (i > 0) out += ', ';
      out += String.UTF8.decodeUnsafe(at, <usize>min<i32>(k, MAX_ATTRIBUTE_CHARS * 4));
    }
    at += <usize>(k + v + 2);
  }
  return out;
}

/** Adds one value to the record; false when its shape is none of the recorded kinds. */
function addValue(record: SpanRecord, key: string, p: usize, n: i32): bool {
  if (n == 0) return false;
  if (isText(p, n)) {
    record.setString(key, String.UTF8.decodeUnsafe(p, <usize>min<i32>(n, MAX_ATTRIBUTE_CHARS * 4)));
    return true;
  }
  if (n == 1) {
    const b = load<u8>(p);
    if (b > 1) return false;
    record.setString(key, b == 1 ? 'true' : 'false');
    return true;
  }
  const list = stringList(p, n);
  if (list !== null) {
    record.setString(key, list);
    return true;
  }
  if (n == 8) {
    // Integral numbers (status codes, sizes) become ints; fractions are not recorded (the span
    // record holds strings and ints, and the service writes no fractional values).
    const d = load<f64>(p);
    if (d != Math.floor(d) || Math.abs(d) >= 9007199254740992.0) return false;
    record.setInt(key, <i64>d);
    return true;
  }
  return false;
}

function hasKey(record: SpanRecord, key: string): bool {
  for (let i = 0; i < record.keys.length; i++) if (record.keys[i] == key) return true;
  return false;
}

/**
 * Copies the `meshtrace` namespace onto `record`; returns how many attributes it added. Keys the
 * filter already set keep the filter's value (it saw the response Envoy actually sent).
 */
export function addDynamicMetadata(record: SpanRecord): i32 {
  const buf = readNamespace();
  if (buf === null) return 0;
  return addMetadataPairs(record, changetype<usize>(buf), buf.byteLength);
}

/** Decodes a pairs block at [base, base+size) onto `record`; a malformed block adds nothing. */
export function addMetadataPairs(record: SpanRecord, base: usize, size: i32): i32 {
  const start = pairsDataStart(base, size);
  if (start < 0) return 0;
  const count = min<i32>(<i32>load<u32>(base), MAX_METADATA_ENTRIES);
  const limit = MAX_ATTRIBUTES - RESERVED_SLOTS;
  let at = base + <usize>start;
  let added = 0;
  for (let i = 0; i < count && record.keys.length < limit; i++) {
    const k = <i32>load<u32>(base + 4 + <usize>i * 8);
    const v = <i32>load<u32>(base + 8 + <usize>i * 8);
    const valueAt = at + <usize>(k + 1);
    if (k > 0 && k <= MAX_KEY_BYTES) {
      const key = String.UTF8.decodeUnsafe(at, <usize>k);
      if (!isSecretKey(key) && !hasKey(record, key) && addValue(record, key, valueAt, v)) added++;
    }
    at += <usize>(k + v + 2);
  }
  return added;
}
