// Generated spans as OpenTelemetry SDK ReadableSpans, so tests can push them through the real
// OTLP exporters (`@opentelemetry/exporter-trace-otlp-*`) into the collector exactly as an
// instrumented service would. The exporters group spans by resource object identity, so each
// distinct resource becomes one shared Resource.
//
// Lossy where the SDK model is narrower than ours: kind 'unspecified' becomes INTERNAL
// (the SDK cannot express UNSPECIFIED), and null / nested-array attribute values are dropped
// (OTel attributes are primitives or homogeneous primitive arrays).
import {
  type Attributes,
  type AttributeValue as OtelValue,
  type HrTime,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AttributeValue, Span } from '../model.ts';

const KIND: Record<Span['kind'], SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  unspecified: SpanKind.INTERNAL,
};

const STATUS: Record<Span['status'], SpanStatusCode> = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
};

export const hrTimeOfUs = (us: number): HrTime => {
  const s = Math.floor(us / 1e6);
  return [s, Math.round((us - s * 1e6) * 1000)];
};

function otelAttributes(attrs: Record<string, AttributeValue>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null) continue;
    if (Array.isArray(v)) {
      if (v.every((x) => typeof x === 'string')) out[k] = v as string[];
      else if (v.every((x) => typeof x === 'number')) out[k] = v as number[];
      else if (v.every((x) => typeof x === 'boolean')) out[k] = v as boolean[];
      continue;
    }
    out[k] = v as OtelValue;
  }
  return out;
}

export function toReadableSpans(
  spans: readonly Span[],
  scope = { name: 'meshtrace-generate', version: '0.1.0' },
): ReadableSpan[] {
  const resources = new Map<string, Resource>();
  return spans.map((s) => {
    const resourceKey = JSON.stringify(s.resource);
    let resource = resources.get(resourceKey);
    if (!resource) {
      resource = resourceFromAttributes(otelAttributes({ 'service.name': s.service, ...s.resource }));
      resources.set(resourceKey, resource);
    }
    const traceState = s.traceState ? new TraceState(s.traceState) : undefined;
    const context = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED, traceState };
    const durUs = s.endUs - s.startUs;
    return {
      name: s.name,
      kind: KIND[s.kind],
      spanContext: () => context,
      parentSpanContext: s.parentSpanId
        ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED }
        : undefined,
      startTime: hrTimeOfUs(s.startUs),
      endTime: hrTimeOfUs(s.endUs),
      duration: hrTimeOfUs(durUs),
      status: s.statusMessage ? { code: STATUS[s.status], message: s.statusMessage } : { code: STATUS[s.status] },
      attributes: otelAttributes(s.attributes),
      links: s.links.map((l) => ({
        context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED },
        attributes: otelAttributes(l.attributes),
      })),
      events: s.events.map((e) => ({
        time: hrTimeOfUs(e.timeUs),
        name: e.name,
        attributes: otelAttributes(e.attributes),
        droppedAttributesCount: 0,
      })),
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    } satisfies ReadableSpan;
  });
}
