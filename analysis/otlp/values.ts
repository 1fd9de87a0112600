// OTLP AnyValue/KeyValue → the model's AttributeValue. kvlist values (maps) have no model
// counterpart and become their JSON text; bytes become lowercase hex. Bounded by SpanLimits.
import type { AttributeValue } from '../model.ts';
import type { PbAnyValue, PbKeyValue } from './decoded.ts';
import { bytesToHex } from './ids.ts';
import type { SpanLimits } from './limits.ts';
import { int64Value } from './nanos.ts';
import { isSecretKey, REDACTED } from './redact.ts';

export const MAX_DEPTH = 4;

export function cut(s: string, limits: SpanLimits): string {
  return s.length <= limits.maxValueChars ? s : `${s.slice(0, limits.maxValueChars)}…[truncated]`;
}

export function anyValue(v: PbAnyValue | null | undefined, limits: SpanLimits, depth: number): AttributeValue {
  if (v === null || v === undefined || typeof v !== 'object') return null;
  if (typeof v.stringValue === 'string') return cut(v.stringValue, limits);
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== null && v.intValue !== undefined) return int64Value(v.intValue);
  if (v.doubleValue !== null && v.doubleValue !== undefined) {
    const d = Number(v.doubleValue); // JSON may spell NaN/Infinity as strings
    return Number.isFinite(d) ? d : String(v.doubleValue);
  }
  if (v.arrayValue) {
    const values = Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    if (depth >= MAX_DEPTH) return cut(JSON.stringify(values.length), limits);
    return values.slice(0, limits.maxArrayValues).map((x) => anyValue(x, limits, depth + 1));
  }
  if (v.kvlistValue) {
    const obj = attributes(v.kvlistValue.values, limits, depth + 1);
    return cut(JSON.stringify(obj), limits);
  }
  if (v.bytesValue !== null && v.bytesValue !== undefined) {
    if (typeof v.bytesValue === 'string') return cut(Buffer.from(v.bytesValue, 'base64').toString('hex'), limits);
    if (v.bytesValue instanceof Uint8Array) return cut(bytesToHex(v.bytesValue), limits);
  }
  return null;
}

/** Converts a KeyValue list; later duplicates win (as in the SDKs), secrets are redacted. */
export function attributes(
  kvs: PbKeyValue[] | null | undefined,
  limits: SpanLimits,
  depth = 0,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!Array.isArray(kvs)) return out;
  let n = 0;
  for (const kv of kvs) {
    if (kv === null || typeof kv !== 'object' || typeof kv.key !== 'string' || kv.key === '') continue;
    const key = kv.key.length > 256 ? kv.key.slice(0, 256) : kv.key;
    if (!Object.hasOwn(out, key)) {
      if (n >= limits.maxAttributes) continue;
      n++;
    }
    const value = isSecretKey(key) ? REDACTED : depth > MAX_DEPTH ? null : anyValue(kv.value, limits, depth);
    // '__proto__' is a legal attribute key; plain assignment would set the prototype instead.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
