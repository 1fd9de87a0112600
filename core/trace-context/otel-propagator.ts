// The codec as an OpenTelemetry TextMapPropagator, so the gRPC service and the gateway plugins
// extract and inject through OTel with the same rules (and vectors) as the Wasm filter.
//
// OTel's SpanContext has no room for B3 debug or a deferred (null) sampling decision; the
// extracted TraceContext is therefore also kept in the OTel Context (getExtractedTraceContext)
// and consulted on inject: debug carries over for the same trace, and a deferred decision is
// kept when no local span was started in between (pure pass-through).
import {
  type Context,
  createContextKey,
  createTraceState,
  isSpanContextValid,
  propagation,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import type { HeaderGetter } from './carriers.ts';
import { extract } from './extract.ts';
import { inject } from './inject.ts';
import type { Reason } from './reasons.ts';
import { DEFAULT_FORMATS, isTraceFormat, type TraceContext, type TraceFormat } from './types.ts';

const EXTRACTED = createContextKey('meshtrace.extracted-trace-context');
const FLAG_SAMPLED = 0x01;
const FLAG_RANDOM = 0x02;

const WRITES: Record<TraceFormat, readonly string[]> = {
  w3c: ['traceparent', 'tracestate', 'baggage'],
  b3: ['b3'],
  b3multi: ['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags'],
  jaeger: ['uber-trace-id'],
};

export interface MeshtracePropagatorOptions {
  /** Accepted inbound formats in precedence order; default w3c, b3, b3multi, jaeger. */
  inbound?: readonly TraceFormat[];
  /** Formats written on inject; default ['w3c']. */
  outbound?: readonly TraceFormat[];
  /** Called with the reasons of every extraction that found problems (for logs/metrics). */
  onReasons?: (reasons: Reason[]) => void;
}

function checkFormats(field: string, value: unknown): readonly TraceFormat[] {
  if (!Array.isArray(value)) throw new TypeError(`MeshtracePropagator: ${field} must be an array of formats`);
  value.forEach((format, i) => {
    if (!isTraceFormat(format)) {
      throw new TypeError(
        `MeshtracePropagator: ${field}[${i}] is ${JSON.stringify(format)}; expected one of w3c, b3, b3multi, jaeger`,
      );
    }
  });
  return [...new Set(value as TraceFormat[])];
}

/** Case-insensitive header reads over any OTel carrier (OTel getters are case-sensitive). */
function headerGetter<C>(carrier: C, getter: TextMapGetter<C>): HeaderGetter {
  let byLowerName: Map<string, string[]> | null = null;
  const keys = () => getter.keys(carrier) ?? [];
  return {
    keys,
    get(name) {
      if (byLowerName === null) {
        byLowerName = new Map();
        for (const key of keys()) {
          const lower = key.toLowerCase();
          const list = byLowerName.get(lower) ?? [];
          if (!list.includes(key)) list.push(key);
          byLowerName.set(lower, list);
        }
      }
      const lower = name.toLowerCase();
      const out: string[] = [];
      for (const key of byLowerName.get(lower) ?? [lower]) {
        const value = getter.get(carrier, key);
        if (Array.isArray(value)) out.push(...value);
        else if (typeof value === 'string') out.push(value);
      }
      return out;
    },
  };
}

export function getExtractedTraceContext(context: Context): TraceContext | undefined {
  return context.getValue(EXTRACTED) as TraceContext | undefined;
}

export class MeshtracePropagator implements TextMapPropagator {
  readonly inbound: readonly TraceFormat[];
  readonly outbound: readonly TraceFormat[];
  private readonly onReasons: ((reasons: Reason[]) => void) | undefined;

  constructor(options: MeshtracePropagatorOptions = {}) {
    this.inbound = checkFormats('inbound', options.inbound ?? DEFAULT_FORMATS);
    this.outbound = checkFormats('outbound', options.outbound ?? ['w3c']);
    this.onReasons = options.onReasons;
  }

  extract<C>(context: Context, carrier: C, getter: TextMapGetter<C>): Context {
    const result = extract(headerGetter(carrier, getter), this.inbound);
    if (result.reasons.length > 0) this.onReasons?.(result.reasons);
    const entries = result.valid ? result.context.baggage : result.baggage;
    let out = context;
    if (entries.length > 0) {
      let baggage = propagation.getBaggage(out) ?? propagation.createBaggage();
      for (const [key, value] of entries) baggage = baggage.setEntry(key, { value });
      out = propagation.setBaggage(out, baggage);
    }
    if (!result.valid) return out;
    const ctx = result.context;
    const spanContext: SpanContext = {
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      isRemote: true,
      traceFlags: (ctx.sampled === true ? FLAG_SAMPLED : 0) | (ctx.random ? FLAG_RANDOM : 0),
    };
    if (ctx.tracestate !== '') spanContext.traceState = createTraceState(ctx.tracestate);
    return trace.setSpanContext(out, spanContext).setValue(EXTRACTED, ctx);
  }

  inject<C>(context: Context, carrier: C, setter: TextMapSetter<C>): void {
    const spanContext = trace.getSpanContext(context);
    if (!spanContext || !isSpanContextValid(spanContext)) return;
    const extracted = getExtractedTraceContext(context);
    const sameTrace = extracted?.traceId === spanContext.traceId;
    const flagged = (spanContext.traceFlags & FLAG_SAMPLED) !== 0;
    const passThrough = sameTrace && extracted?.spanId === spanContext.spanId;
    const out: TraceContext = {
      traceId: spanContext.traceId,
      spanId: spanContext.spanId,
      sampled: passThrough && !flagged ? extracted!.sampled : flagged,
      debug: sameTrace && extracted!.debug,
      random: (spanContext.traceFlags & FLAG_RANDOM) !== 0,
      tracestate: spanContext.traceState?.serialize() ?? '',
      baggage: (propagation.getBaggage(context)?.getAllEntries() ?? []).map(([key, entry]) => [key, entry.value]),
    };
    inject(out, this.outbound, (name, value) => setter.set(carrier, name, value));
  }

  /** Names written on inject (Jaeger `uberctx-*` names depend on the baggage keys). */
  fields(): string[] {
    return [...new Set(this.outbound.flatMap((format) => WRITES[format]))];
  }

  toString(): string {
    return `MeshtracePropagator{inbound=${this.inbound.join(',')}, outbound=${this.outbound.join(',')}}`;
  }
}
