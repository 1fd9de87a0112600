// A request body → spans for the store, in either OTLP encoding; what both receivers call.
// Protobuf takes the direct decoder (span-rows.ts) and falls back to the generated decoder +
// toSpans for anything it does not take (non-canonical encodings, and malformed bodies, whose
// error text then comes from the generated decoder). JSON goes through toSpans.
import { decodeJsonRequest, decodeProtobufRequest, type Encoding } from './codec.ts';
import type { SpanLimits } from './limits.ts';
import { decodeSpanRows } from './span-rows.ts';
import { type Conversion, toSpans } from './to-spans.ts';

export type DecodedSpans = { ok: true; conversion: Conversion } | { ok: false; error: string };

export function decodeProtobufSpans(body: Uint8Array, limits: SpanLimits): DecodedSpans {
  try {
    return { ok: true, conversion: decodeSpanRows(body, limits) };
  } catch {
    // NotCanonical — or a fault of the direct decoder: the generated one decides either way
  }
  const d = decodeProtobufRequest(body);
  return d.ok ? { ok: true, conversion: toSpans(d.request, limits) } : d;
}

export function decodeJsonSpans(body: Uint8Array, limits: SpanLimits): DecodedSpans {
  const d = decodeJsonRequest(body);
  return d.ok ? { ok: true, conversion: toSpans(d.request, limits) } : d;
}

export function decodeSpans(body: Uint8Array, encoding: Encoding, limits: SpanLimits): DecodedSpans {
  return encoding === 'json' ? decodeJsonSpans(body, limits) : decodeProtobufSpans(body, limits);
}
