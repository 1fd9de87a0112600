// Inbound trace headers through the shared TypeScript codec (core/trace-context), in the
// formats and precedence the config lists. The OTel span gets an OTel SpanContext; what the
// codec knows beyond it (tracestate, baggage, debug, W3C random flag) is kept for the outbound
// headers (hop-trace.ts).
import { type SpanContext, TraceFlags } from '@opentelemetry/api';
import {
  extract,
  type HeaderGetter,
  isTraceHeader,
  type TraceContext,
  type TraceFormat,
} from '../core/trace-context/index.ts';
import type { Headers } from './headers.ts';

export interface Inbound {
  /** Parent for the OTel span. */
  parent: SpanContext;
  context: TraceContext;
  format: TraceFormat;
}

export interface Propagation {
  /** The inbound parent, or undefined when none is present or valid. */
  extract(headers: Headers): Inbound | undefined;
}

/** The codec's view of a Headers map (names already lower-case). */
class MapGetter implements HeaderGetter {
  constructor(private readonly headers: Headers) {}

  get(name: string): string[] {
    return this.headers.get(name.toLowerCase()) ?? [];
  }

  keys(): string[] {
    return [...this.headers.keys()];
  }
}

export function getterOf(headers: Headers): HeaderGetter {
  return new MapGetter(headers);
}

/**
 * Inbound trace headers that would contradict ours (e.g. a caller's b3 when we inject w3c) are
 * removed. Baggage is not trace identity: never removed, only rewritten when a format we
 * inject carries it.
 */
export const isIdentityHeader = (name: string) =>
  isTraceHeader(name) && name !== 'baggage' && !name.startsWith('uberctx-');

export function codecPropagation(extractFormats: readonly TraceFormat[]): Propagation {
  return {
    extract(headers) {
      const r = extract(getterOf(headers), extractFormats);
      if (!r.valid) return undefined;
      const c = r.context;
      return {
        parent: {
          traceId: c.traceId,
          spanId: c.spanId,
          traceFlags: c.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
          isRemote: true,
        },
        context: c,
        format: r.format,
      };
    },
  };
}
