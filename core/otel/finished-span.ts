// A span that is already over, recorded as plain data, in the ReadableSpan shape the batch
// processor and the OTLP exporter read — for hosts that decide at response time and only then
// turn the request into spans (the gateway plugins). Going through the SDK's Tracer for such a
// span costs a Span object, a sampler call, context objects and processor hops for data that is
// already final (in express-gateway at 100 % kept: ~60 % of the per-request export cost).
//
// What the SDK would do for the same span is done here too: attribute keys without a value are
// skipped, at most `attributeCountLimit` attributes are kept (then counted as dropped), string
// values are cut at `attributeValueLengthLimit`, links are capped at `linkCountLimit`, times are
// epoch milliseconds turned into HrTime, an end before the start ends at the start.
import {
  type Attributes,
  type AttributeValue,
  type HrTime,
  type Link,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
  type TraceState,
} from '@opentelemetry/api';
import { hrTimeDuration, type InstrumentationScope, millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanLimits, TimedEvent } from '@opentelemetry/sdk-trace-base';

export interface FinishedSpanInit {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  traceState: TraceState | undefined;
  /** The remote parent, or the local parent's spanContext(); undefined for a root. */
  parent: SpanContext | undefined;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  links?: readonly Link[];
  /** Only ERROR is recorded (an UNSET status stays UNSET). */
  error?: string | null;
}

const NO_EVENTS: TimedEvent[] = [];

function truncate(value: AttributeValue, limit: number): AttributeValue {
  if (limit <= 0) return value;
  if (typeof value === 'string') return value.length > limit ? value.slice(0, limit) : value;
  if (Array.isArray(value)) {
    return value.map((v) => (typeof v === 'string' && v.length > limit ? v.slice(0, limit) : v)) as AttributeValue;
  }
  return value;
}

/** Copies `input` under the SDK's limits; returns the copy and how many were dropped. */
function limitAttributes(input: Attributes, limits: SpanLimits): { attributes: Attributes; dropped: number } {
  const attributes: Attributes = {};
  const max = limits.attributeCountLimit ?? Number.POSITIVE_INFINITY;
  const length = limits.attributeValueLengthLimit ?? 0;
  let count = 0;
  let dropped = 0;
  for (const key in input) {
    const value = input[key];
    // `__proto__` is skipped, not counted: the SDK's `attributes[key] = value` on a plain object
    // sets the prototype instead of adding an attribute, so no SDK span ever exports one.
    if (value === undefined || value === null || key.length === 0 || key === '__proto__') continue;
    if (count >= max) {
      dropped++;
      continue;
    }
    attributes[key] = truncate(value, length);
    count++;
  }
  return { attributes, dropped };
}

export class FinishedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[] = NO_EVENTS;
  readonly ended = true;
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount: number;
  private readonly context: SpanContext;

  constructor(
    init: FinishedSpanInit,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    limits: SpanLimits,
    /** The context made for this span already (a DeferredSpan's); built from `init` when absent. */
    context?: SpanContext,
  ) {
    this.name = init.name;
    this.kind = init.kind;
    this.context = context ?? {
      traceId: init.traceId,
      spanId: init.spanId,
      traceFlags: TraceFlags.SAMPLED,
      ...(init.traceState === undefined ? {} : { traceState: init.traceState }),
    };
    this.parentSpanContext = init.parent;
    const start = millisToHrTime(init.startMs);
    let end = millisToHrTime(init.endMs);
    let duration = hrTimeDuration(start, end);
    if (duration[0] < 0) {
      end = [start[0], start[1]];
      duration = [0, 0];
    }
    this.startTime = start;
    this.endTime = end;
    this.duration = duration;
    this.status =
      init.error === undefined || init.error === null
        ? { code: SpanStatusCode.UNSET }
        : { code: SpanStatusCode.ERROR, message: init.error };
    const a = limitAttributes(init.attributes, limits);
    this.attributes = a.attributes;
    this.droppedAttributesCount = a.dropped;
    // As the SDK's addLink: past the limit the oldest link goes; link attributes have their own count limit.
    const maxLinks = limits.linkCountLimit ?? Number.POSITIVE_INFINITY;
    const linkLimits: SpanLimits = {
      attributeCountLimit: limits.attributePerLinkCountLimit ?? Number.POSITIVE_INFINITY,
      attributeValueLengthLimit: limits.attributeValueLengthLimit ?? 0,
    };
    const links: Link[] = [];
    let droppedLinks = 0;
    for (const link of init.links ?? []) {
      if (maxLinks === 0) {
        droppedLinks++;
        continue;
      }
      if (links.length >= maxLinks) {
        links.shift();
        droppedLinks++;
      }
      const la = limitAttributes(link.attributes ?? {}, linkLimits);
      const out: Link = { context: link.context };
      if (Object.keys(la.attributes).length > 0) out.attributes = la.attributes;
      if (la.dropped > 0) out.droppedAttributesCount = la.dropped;
      links.push(out);
    }
    this.links = links;
    this.droppedLinksCount = droppedLinks;
  }

  spanContext(): SpanContext {
    return this.context;
  }
}

/** The data of a span recorded on a hot path, read once when the span is first exported. */
export interface SpanRecord {
  /** Called at most once, after the span's data is final; the record is released after. */
  spanInit(): FinishedSpanInit;
}

/**
 * A kept span whose OTLP shape is built when the exporter first reads it, not when the request
 * ends. Only its context is made up front (the batch processor reads its sampled flag, and a
 * child's parent is this span's context). Built in the export batch, hundreds of spans in a
 * row, the same code runs warm; built at the end of each request, between express's and Node's
 * HTTP code, it ran cold: in express-gateway at 100 % kept, building here saved 4–8 µs of
 * gateway CPU per request (gateway-plugins/README.md, "Cost per request").
 *
 * meshtrace's own exporter does not build it at all: otlp-span-encoder.ts writes its protobuf
 * from init(), the recorded facts (5–6 µs less per kept request again). The getters below are
 * for any other reader (the SDK's serializer when the encoder declines a batch, tests).
 *
 * The record must not change once handed over; it is released once read.
 */
export class DeferredSpan implements ReadableSpan {
  readonly ended = true;
  private record: SpanRecord | null;
  private recorded: FinishedSpanInit | null = null;
  private span: FinishedSpan | null = null;
  private readonly context: SpanContext;

  constructor(
    traceId: string,
    spanId: string,
    traceState: TraceState | undefined,
    record: SpanRecord,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
    readonly limits: SpanLimits,
  ) {
    this.record = record;
    this.context =
      traceState === undefined
        ? { traceId, spanId, traceFlags: TraceFlags.SAMPLED }
        : { traceId, spanId, traceFlags: TraceFlags.SAMPLED, traceState };
  }

  /** The recorded facts (read from the record once; the record is released then). */
  init(): FinishedSpanInit {
    if (this.recorded === null) {
      this.recorded = this.record!.spanInit();
      this.record = null;
    }
    return this.recorded;
  }

  private get built(): FinishedSpan {
    if (this.span === null) {
      this.span = new FinishedSpan(this.init(), this.resource, this.instrumentationScope, this.limits, this.context);
    }
    return this.span;
  }

  spanContext(): SpanContext {
    return this.context;
  }
  get name(): string {
    return this.built.name;
  }
  get kind(): SpanKind {
    return this.built.kind;
  }
  get parentSpanContext(): SpanContext | undefined {
    return this.built.parentSpanContext;
  }
  get startTime(): HrTime {
    return this.built.startTime;
  }
  get endTime(): HrTime {
    return this.built.endTime;
  }
  get duration(): HrTime {
    return this.built.duration;
  }
  get status(): SpanStatus {
    return this.built.status;
  }
  get attributes(): Attributes {
    return this.built.attributes;
  }
  get links(): Link[] {
    return this.built.links;
  }
  get events(): TimedEvent[] {
    return this.built.events;
  }
  get droppedAttributesCount(): number {
    return this.built.droppedAttributesCount;
  }
  get droppedEventsCount(): number {
    return this.built.droppedEventsCount;
  }
  get droppedLinksCount(): number {
    return this.built.droppedLinksCount;
  }
}
