// Trace headers in and out of the service through the shared TypeScript codec
// (core/trace-context), in the formats the config lists. The OTel span gets an OTel SpanContext;
// what the codec knows beyond it (tracestate, baggage, debug, W3C random flag) is carried from
// the inbound context to the outbound headers.
import { type SpanContext, TraceFlags } from '@opentelemetry/api';
import {
  extract,
  type HeaderGetter,
  inject,
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

export interface Outbound {
  set: [string, string][];
  /** Inbound trace headers that would contradict ours (e.g. a caller's b3 when we inject w3c). */
  remove: string[];
}

export interface Propagation {
  /** The inbound parent, or undefined when none is present or valid. */
  extract(headers: Headers): Inbound | undefined;
  inject(sc: SpanContext, inbound: Inbound | undefined, headers: Headers): Outbound;
}

export function getterOf(headers: Headers): HeaderGetter {
  return { get: (name) => headers.get(name.toLowerCase()) ?? [], keys: () => [...headers.keys()] };
}

/** Baggage is not trace identity: never removed, only rewritten when a format we inject carries it. */
const isIdentityHeader = (name: string) => isTraceHeader(name) && name !== 'baggage' && !name.startsWith('uberctx-');

export function codecPropagation(
  extractFormats: readonly TraceFormat[],
  injectFormats: readonly TraceFormat[],
): Propagation {
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
    inject(sc, inbound, headers) {
      const sampled = (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
      const out = inject(
        {
          traceId: sc.traceId,
          spanId: sc.spanId,
          sampled,
          debug: inbound?.context.debug === true && sampled,
          // A root's trace id comes from the SDK's random generator: W3C Level 2 random holds.
          random: inbound ? inbound.context.random : true,
          tracestate: inbound?.context.tracestate ?? '',
          baggage: inbound?.context.baggage ?? [],
        },
        injectFormats,
      );
      const written = new Set(out.map(([k]) => k));
      const remove = [...headers.keys()].filter((k) => isIdentityHeader(k) && !written.has(k));
      return { set: out, remove };
    },
  };
}
