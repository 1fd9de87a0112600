// Trace and span ids: OTLP carries them as 16/8 raw bytes in protobuf and as 32/16 hex characters in
// OTLP/JSON (spec "JSON Protobuf Encoding": trace_id/span_id are hex, not base64). An id of all
// zeros is invalid (W3C Trace Context §3.2.2.3/§3.2.2.4). Each parser returns the lowercase hex id,
// '' when the field is absent, or null when it is present but malformed.
import type { Bytes } from './decoded.ts';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_RE = /^[0-9a-fA-F]*$/;

function fromBytes(b: Uint8Array, size: number): string | null {
  if (b.length === 0) return '';
  if (b.length !== size) return null;
  let i = 0;
  while (i < size && b[i] === 0) i++;
  if (i === size) return null;
  // protobufjs hands out Buffers on Node; their native hex encoder beats a JS loop
  return Buffer.isBuffer(b) ? b.toString('hex') : bytesToHex(b);
}

function fromHex(s: string, size: number): string | null {
  if (s.length === 0) return '';
  if (s.length !== size * 2 || !HEX_RE.test(s)) return null;
  const lower = s.toLowerCase();
  return /^0+$/.test(lower) ? null : lower;
}

/** Parses an id of `size` bytes; '' = absent, null = malformed or all zeros. */
export function parseId(value: Bytes | null | undefined, size: 16 | 8): string | null {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return fromHex(value, size);
  if (value instanceof Uint8Array) return fromBytes(value, size);
  return null;
}

/** Renders raw bytes as lowercase hex (any length), for bytes attribute values. */
export function bytesToHex(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i++) out += HEX[b[i] as number];
  return out;
}
