// Typed wrappers over the imports: each host call wrapped once. Expected statuses become typed
// results (null for not-found / empty); anything else aborts naming the status number, because
// it means the host and this module disagree about the ABI — not a condition to carry on from.
//
// Memory: the host returns data in buffers it obtained from proxy_on_memory_allocate (that is,
// from our heap). Every wrapper copies what it needs and frees that buffer before returning.
import { BufferType, HeaderMapType, LogLevel, MetricType, WasmResult } from './enums';
import { encodeUtf8, HeaderPairs } from './headers';
import * as imp from './imports';

// Out-parameters of host calls: two u32 slots (pointer + size, or an id / level / value).
const OUT_PTR: usize = memory.data(16);
const OUT_SIZE: usize = OUT_PTR + 8;
const OUT_CAS: usize = memory.data(8);

// Arguments are UTF-8-encoded into one reusable scratch area (grown on demand, never freed)
// rather than a fresh ArrayBuffer per call: header writes happen on every request.
let scratch: usize = 0;
let scratchSize: usize = 0;
let scratchB: usize = 0;
let scratchBLen: usize = 0;

/** Room in the scratch area for `units` UTF-16 code units as UTF-8 (plus two separators). */
function ensureScratch(units: i32): void {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  const need = <usize>units * 3 + 2;
  if (need > scratchSize) {
    if (scratch != 0) heap.free(scratch);
    scratchSize = max<usize>(need, 256);
    scratch = heap.alloc(scratchSize);
  }
}

/** Encodes `a` then `b` into the scratch area; returns a's byte length (b follows it). */
function encodeArgs(a: string, b: string): usize {
  ensureScratch(a.length + b.length);
  const aLen = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, scratch);
  scratchB = scratch + aLen;
  scratchBLen = String.UTF8.encodeUnsafe(changetype<usize>(b), b.length, scratchB);
  return aLen;
}

function unexpected(call: string, status: u32): void {
  abort(`meshtrace: ${call} returned unexpected status ${status}`);
}

/** Takes ownership of the host buffer described by OUT_PTR/OUT_SIZE. */
function takeHostBuffer(): ArrayBuffer {
  const ptr = load<u32>(OUT_PTR) as usize;
  const size = load<u32>(OUT_SIZE) as i32;
  const out = new ArrayBuffer(size);
  if (ptr != 0) {
    memory.copy(changetype<usize>(out), ptr, size);
    heap.free(ptr);
  }
  return out;
}

function takeHostString(): string {
  const ptr = load<u32>(OUT_PTR) as usize;
  const size = load<u32>(OUT_SIZE) as usize;
  if (ptr == 0) return '';
  const s = String.UTF8.decodeUnsafe(ptr, size);
  heap.free(ptr);
  return s;
}

// --- logging

export function log(level: LogLevel, message: string): void {
  const buf = String.UTF8.encode(message);
  // A failed log call cannot be reported anywhere else; ignore its status.
  imp.proxy_log(level, changetype<usize>(buf), buf.byteLength);
}

export function logLevel(): LogLevel {
  const status = imp.proxy_get_log_level(OUT_PTR);
  if (status != WasmResult.Ok) unexpected('proxy_get_log_level', status);
  return load<u32>(OUT_PTR) as LogLevel;
}

// --- header maps

/** All pairs in host order (duplicates kept), names as the host gives them (lower-case in Envoy). */
export function getHeaderMapPairs(map: HeaderMapType): HeaderPairs {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
  const status = imp.proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE);
  if (status == WasmResult.NotFound) return new HeaderPairs();
  if (status != WasmResult.Ok) unexpected('proxy_get_header_map_pairs', status);
  const ptr = load<u32>(OUT_PTR) as usize;
  const size = load<u32>(OUT_SIZE) as usize;
  if (ptr == 0) return new HeaderPairs();
  const pairs = HeaderPairs.fromHost(ptr, size);
  heap.free(ptr);
  return pairs;
}

/** One header's value; null when absent. */
export function getHeaderMapValue(map: HeaderMapType, name: string): string | null {
  const keyLen = encodeArgs(name, '');
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
  const status = imp.proxy_get_header_map_value(map, scratch, keyLen, OUT_PTR, OUT_SIZE);
  if (status == WasmResult.NotFound) return null;
  if (status != WasmResult.Ok) unexpected('proxy_get_header_map_value', status);
  return takeHostString();
}

export function addHeaderMapValue(map: HeaderMapType, name: string, value: string): void {
  const keyLen = encodeArgs(name, value);
  const status = imp.proxy_add_header_map_value(map, scratch, keyLen, scratchB, scratchBLen);
  if (status != WasmResult.Ok) unexpected('proxy_add_header_map_value', status);
}

export function replaceHeaderMapValue(map: HeaderMapType, name: string, value: string): void {
  const keyLen = encodeArgs(name, value);
  const status = imp.proxy_replace_header_map_value(map, scratch, keyLen, scratchB, scratchBLen);
  if (status != WasmResult.Ok) unexpected('proxy_replace_header_map_value', status);
}

/** Removes every value of `name`; absent is not an error. */
export function removeHeaderMapValue(map: HeaderMapType, name: string): void {
  const keyLen = encodeArgs(name, '');
  const status = imp.proxy_remove_header_map_value(map, scratch, keyLen);
  if (status != WasmResult.Ok && status != WasmResult.NotFound) unexpected('proxy_remove_header_map_value', status);
}

// --- buffers

/** Bytes [start, start+length) of a host buffer; null when the buffer is absent or empty. */
export function getBufferBytes(buffer: BufferType, start: u32, length: u32): ArrayBuffer | null {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
  const status = imp.proxy_get_buffer_bytes(buffer, start, length, OUT_PTR, OUT_SIZE);
  if (status == WasmResult.NotFound || status == WasmResult.Empty) return null;
  if (status != WasmResult.Ok) unexpected('proxy_get_buffer_bytes', status);
  return takeHostBuffer();
}

// --- properties

// A span reads about fifteen properties at the end of every exported stream: the path is written
// straight into the scratch area (segments joined with NUL on the wire) and the answer read in
// place, rather than joining strings, encoding them into a buffer and copying the answer out.

/** Asks for property `a` (or `a`.`b`); true when found, the answer then at OUT_PTR/OUT_SIZE (caller frees). */
function fetchProperty(a: string, b: string): bool {
  ensureScratch(a.length + b.length);
  let len = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, scratch);
  if (b.length > 0) {
    store<u8>(scratch + len, 0);
    len += 1 + String.UTF8.encodeUnsafe(changetype<usize>(b), b.length, scratch + len + 1);
  }
  return fetchEncodedProperty(len);
}

function fetchEncodedProperty(len: usize): bool {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
  const status = imp.proxy_get_property(scratch, len, OUT_PTR, OUT_SIZE);
  if (status == WasmResult.NotFound) return false;
  if (status != WasmResult.Ok) unexpected('proxy_get_property', status);
  return true;
}

/** A property by path segments (joined with NUL on the wire) as bytes; null when not found. */
export function getProperty(path: string[]): ArrayBuffer | null {
  let chars = 0;
  for (let i = 0; i < path.length; i++) chars += path[i].length + 1;
  ensureScratch(chars);
  let len: usize = 0;
  for (let i = 0; i < path.length; i++) {
    if (i > 0) store<u8>(scratch + len++, 0);
    len += String.UTF8.encodeUnsafe(changetype<usize>(path[i]), path[i].length, scratch + len);
  }
  return fetchEncodedProperty(len) ? takeHostBuffer() : null;
}

/** A string property (UTF-8 on the wire); null when not found. */
export function getPropertyString(a: string, b: string = ''): string | null {
  return fetchProperty(a, b) ? takeHostString() : null;
}

/** An int64 property (8 bytes little-endian); `fallback` when absent or of another size. */
export function getPropertyI64(a: string, b: string, fallback: i64): i64 {
  if (!fetchProperty(a, b)) return fallback;
  const ptr = load<u32>(OUT_PTR) as usize;
  const size = load<u32>(OUT_SIZE);
  const v = ptr != 0 && size == 8 ? load<i64>(ptr) : fallback;
  if (ptr != 0) heap.free(ptr);
  return v;
}

// --- metrics

export function defineMetric(type: MetricType, name: string): u32 {
  const n = encodeUtf8(name);
  const status = imp.proxy_define_metric(type, changetype<usize>(n), n.byteLength, OUT_PTR);
  if (status != WasmResult.Ok) unexpected('proxy_define_metric', status);
  return load<u32>(OUT_PTR);
}

export function incrementMetric(id: u32, offset: i64): void {
  const status = imp.proxy_increment_metric(id, offset);
  if (status != WasmResult.Ok) unexpected('proxy_increment_metric', status);
}

export function getMetric(id: u32): u64 {
  const status = imp.proxy_get_metric(id, OUT_PTR);
  if (status != WasmResult.Ok) unexpected('proxy_get_metric', status);
  return load<u64>(OUT_PTR);
}

// --- callouts and timer

/**
 * Dispatches an HTTP call to `cluster` (Envoy runs it on the root context; the answer arrives
 * in proxy_on_http_call_response). Returns the token, or -1 when the host refused it
 * (BadArgument: unknown cluster or missing pseudo-header; InternalFailure: no async client).
 */
export function httpCall(cluster: string, headers: ArrayBuffer, body: ArrayBuffer, bodyLen: i32, timeoutMs: u32): i64 {
  const c = encodeUtf8(cluster);
  const trailers = EMPTY_MAP;
  store<u32>(OUT_PTR, 0);
  const status = imp.proxy_http_call(
    changetype<usize>(c),
    c.byteLength,
    changetype<usize>(headers),
    headers.byteLength,
    changetype<usize>(body),
    bodyLen,
    changetype<usize>(trailers),
    4,
    timeoutMs,
    OUT_PTR,
  );
  if (status == WasmResult.BadArgument || status == WasmResult.InternalFailure) return -1;
  if (status != WasmResult.Ok) unexpected('proxy_http_call', status);
  return <i64>load<u32>(OUT_PTR);
}

// An empty header map: u32 count = 0.
const EMPTY_MAP: ArrayBuffer = new ArrayBuffer(4);

export function setTickPeriod(ms: u32): void {
  const status = imp.proxy_set_tick_period_milliseconds(ms);
  if (status != WasmResult.Ok) unexpected('proxy_set_tick_period_milliseconds', status);
}

// --- shared data

/** A shared-data value and the CAS token that must accompany its replacement. */
export class SharedValue {
  constructor(
    readonly bytes: ArrayBuffer,
    readonly cas: u32,
  ) {}
}

/** The value under `key` (every VM with this vm_id sees the same store); null when never set. */
export function getSharedData(key: string): SharedValue | null {
  const keyLen = encodeArgs(key, '');
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
  store<u32>(OUT_CAS, 0);
  const status = imp.proxy_get_shared_data(scratch, keyLen, OUT_PTR, OUT_SIZE, OUT_CAS);
  if (status == WasmResult.NotFound) return null;
  if (status != WasmResult.Ok) unexpected('proxy_get_shared_data', status);
  const cas = load<u32>(OUT_CAS);
  return new SharedValue(takeHostBuffer(), cas);
}

/**
 * Stores `len` bytes at `ptr` under `key` when the stored value still has token `cas` (0 =
 * unconditionally). False on a CAS mismatch: another context changed it first — read again.
 */
export function setSharedData(key: string, ptr: usize, len: i32, cas: u32): bool {
  const keyLen = encodeArgs(key, '');
  const status = imp.proxy_set_shared_data(scratch, keyLen, ptr, len, cas);
  if (status == WasmResult.CasMismatch) return false;
  if (status != WasmResult.Ok) unexpected('proxy_set_shared_data', status);
  return true;
}
