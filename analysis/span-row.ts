// A span already in the store's row form, as the OTLP protobuf decoder produces it: ids as hex,
// attributes and the rarely-present parts (status message, events, links, tracestate) as the JSON
// text the DuckDB store keeps, the resource shared by every span of its ResourceSpans. The store
// appends these fields as they are; anything else that reads a SpanRow sees a `Span` — the JSON
// parts are parsed on first access. Read its properties; object spread would copy only the plain
// fields (use toSpan() for a plain object).
import type { AttributeValue, Span, SpanEvent, SpanKind, SpanLink, StatusCode } from './model.ts';

type Attributes = Record<string, AttributeValue>;

/** The parts of a span stored together in the `extra` column (null there when all are empty). */
export interface SpanExtra {
  statusMessage?: string;
  events?: SpanEvent[];
  links?: SpanLink[];
  traceState?: string;
}

/** One decoded resource: its attribute JSON text and service name, shared by its spans. */
export class SpanResource {
  private parsed: Attributes | undefined;

  constructor(
    readonly json: string,
    readonly service: string,
  ) {}

  get attributes(): Attributes {
    this.parsed ??= JSON.parse(this.json) as Attributes;
    return this.parsed;
  }
}

export class SpanRow implements Span {
  private parsedAttributes: Attributes | undefined;
  private parsedExtra: SpanExtra | undefined;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string | null,
    readonly name: string,
    readonly kind: SpanKind,
    readonly resourceRow: SpanResource,
    readonly startUs: number,
    readonly endUs: number,
    readonly status: StatusCode,
    /** JSON text of the attributes object. */
    readonly attributesJson: string,
    /** JSON text of the SpanExtra, or null when the span has none of its parts. */
    readonly extraJson: string | null,
  ) {}

  get service(): string {
    return this.resourceRow.service;
  }

  get resource(): Attributes {
    return this.resourceRow.attributes;
  }

  get attributes(): Attributes {
    this.parsedAttributes ??= JSON.parse(this.attributesJson) as Attributes;
    return this.parsedAttributes;
  }

  private get extra(): SpanExtra {
    this.parsedExtra ??= this.extraJson === null ? {} : (JSON.parse(this.extraJson) as SpanExtra);
    return this.parsedExtra;
  }

  get statusMessage(): string {
    return this.extra.statusMessage ?? '';
  }

  get events(): SpanEvent[] {
    return this.extra.events ?? [];
  }

  get links(): SpanLink[] {
    return this.extra.links ?? [];
  }

  get traceState(): string | undefined {
    return this.extra.traceState;
  }

  /** The same span as a plain model object. */
  toSpan(): Span {
    const span: Span = {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      service: this.service,
      startUs: this.startUs,
      endUs: this.endUs,
      status: this.status,
      statusMessage: this.statusMessage,
      attributes: this.attributes,
      resource: this.resource,
      events: this.events,
      links: this.links,
    };
    if (this.traceState !== undefined) span.traceState = this.traceState;
    return span;
  }
}

/** The rarely-present parts of a span as the `extra` column's JSON text, or null when all are empty. */
export function extraJson(s: Span): string | null {
  if (s.statusMessage === '' && s.events.length === 0 && s.links.length === 0 && s.traceState === undefined)
    return null;
  const e: SpanExtra = {};
  if (s.statusMessage !== '') e.statusMessage = s.statusMessage;
  if (s.events.length > 0) e.events = s.events;
  if (s.links.length > 0) e.links = s.links;
  if (s.traceState !== undefined) e.traceState = s.traceState;
  return JSON.stringify(e);
}
