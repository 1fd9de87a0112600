// google.protobuf.Struct in proto-loader's tagged form (see envoy-types.ts) ⇄ plain values.
// Envoy's attributes arrive this way and dynamic metadata must be sent this way.
import type { Struct, StructValue } from './envoy-types.ts';

export type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

/**
 * `obj[key] = value` as an own, enumerable property for every key. Plain assignment treats
 * `__proto__` as the prototype: a Struct key of that name (from the wire, or from attributes we
 * send) would vanish, and what it carried would be inherited by every lookup on the object.
 */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

export function fromStructValue(v: StructValue | undefined): Plain {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.structValue !== undefined) return fromStruct(v.structValue);
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(fromStructValue);
  return null;
}

export function fromStruct(s: Struct | undefined): { [k: string]: Plain } {
  const out: { [k: string]: Plain } = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) setOwn(out, k, fromStructValue(v));
  return out;
}

export function toStructValue(v: Plain | undefined): StructValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toStructValue) } };
  return { structValue: toStruct(v) };
}

export function toStruct(o: { [k: string]: Plain | undefined }): Struct {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) setOwn(fields, k, toStructValue(v));
  return { fields };
}
