// The I/O convention shared by the test-only probe modules (codec-probe.ts, sampling/probe.ts):
// the test writes a UTF-8 JSON request into memory from alloc(), calls the probe's run(op, ptr,
// len) and reads the JSON answer at output() (its length is run's result). Neither probe is
// loaded by Envoy.
import { JsonValue } from './json/value';
import { JsonReader } from './json/reader';
import { quote } from './json/writer';

let lastOutput = new ArrayBuffer(0);

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function output(): usize {
  return changetype<usize>(lastOutput);
}

/** Answers one request: `handle(op, input)` for valid JSON, an `{"error"}` object otherwise. */
export function answer(op: i32, ptr: usize, len: usize, handle: (op: i32, input: JsonValue) => string): i32 {
  const text = String.UTF8.decodeUnsafe(ptr, len);
  heap.free(ptr);
  const reader = new JsonReader(text);
  const input = reader.parse();
  const out = input === null ? `{"error":${quote(reader.error)}}` : handle(op, input);
  lastOutput = String.UTF8.encode(out);
  const length = lastOutput.byteLength;
  // `minimal` runtime: nothing collects automatically; the end of an export call is safe.
  __collect();
  return length;
}
