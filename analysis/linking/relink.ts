// Re-parenting: apply links to a span set and return new spans (the input is never mutated).
// A linked outbound call takes the inbound span as parent and the inbound's trace id; every
// span below it — the provisional trace it started — follows into that trace. Links chain:
// when the inbound span itself sits in a provisional trace that is being linked upward, the
// whole chain ends in the topmost trace, because a span's trace is taken from its topmost
// ancestor over the re-parented edges.
import type { Span } from '../model.ts';
import { CONFIDENCE, INFERRED, PROVISIONAL, SOURCE } from './attributes.ts';
import type { Link } from './assign.ts';

export interface RelinkResult {
  value: Span[];
  errors: string[];
}

const keyOf = (traceId: string, spanId: string): string => `${traceId}:${spanId}`;

/** A span to cut from its parent: it becomes the root of a trace of its own (id from its span id). */
export interface Detach {
  traceId: string;
  spanId: string;
}

/**
 * Applies `links`, and cuts each `detach` span loose (an online guess the offline pass could not
 * confirm: a wrong link is worse than none). A span both linked and detached is linked.
 */
export function relink(spans: readonly Span[], links: readonly Link[], detach: readonly Detach[] = []): RelinkResult {
  const errors: string[] = [];
  const byKey = new Map<string, Span>();
  for (const s of spans) byKey.set(keyOf(s.traceId, s.spanId), s);

  // Effective parent of each re-parented span.
  const linkOf = new Map<string, Link>();
  const parentKey = new Map<string, string>();
  for (const l of links) {
    const ok = keyOf(l.outboundTraceId, l.outboundSpanId);
    const ik = keyOf(l.inboundTraceId, l.inboundSpanId);
    if (!byKey.has(ok)) errors.push(`relink: outbound span ${ok} not in the span set`);
    else if (!byKey.has(ik)) errors.push(`relink: inbound span ${ik} not in the span set`);
    else if (linkOf.has(ok)) errors.push(`relink: outbound span ${ok} linked twice; first link kept`);
    else {
      linkOf.set(ok, l);
      parentKey.set(ok, ik);
    }
  }
  const cut = new Set<string>();
  for (const d of detach) {
    const k = keyOf(d.traceId, d.spanId);
    if (!byKey.has(k)) errors.push(`relink: detached span ${k} not in the span set`);
    else if (!linkOf.has(k)) cut.add(k);
  }
  const parentOf = (k: string): string | null => {
    if (cut.has(k)) return null;
    const p = parentKey.get(k);
    if (p !== undefined) return p;
    const s = byKey.get(k)!;
    return s.parentSpanId === null ? null : keyOf(s.traceId, s.parentSpanId);
  };

  // A link that would close a cycle (a call "causing" its own ancestor) is refused.
  for (const ok of [...linkOf.keys()]) {
    const seen = new Set<string>([ok]);
    let k: string | null = parentKey.get(ok)!;
    while (k !== null && byKey.has(k)) {
      if (seen.has(k)) {
        errors.push(`relink: link of ${ok} to ${parentKey.get(ok)} makes a cycle; not applied`);
        linkOf.delete(ok);
        parentKey.delete(ok);
        break;
      }
      seen.add(k);
      k = parentOf(k);
    }
  }

  const finalTrace = new Map<string, string>();
  const traceOf = (k: string): string => {
    const path: string[] = [];
    let cur = k;
    let trace: string | undefined;
    for (;;) {
      trace = finalTrace.get(cur);
      if (trace !== undefined) break;
      path.push(cur);
      const p = parentOf(cur);
      if (p === null || !byKey.has(p)) {
        const top = byKey.get(cur)!;
        trace = cut.has(cur) ? top.spanId.padStart(32, '0') : top.traceId;
        break;
      }
      cur = p;
    }
    for (const x of path) finalTrace.set(x, trace);
    return trace;
  };

  const value = spans.map((s): Span => {
    const k = keyOf(s.traceId, s.spanId);
    const traceId = traceOf(k);
    const link = linkOf.get(k);
    const copy: Span = {
      ...s,
      traceId,
      attributes: { ...s.attributes },
      resource: { ...s.resource },
      events: s.events.map((e) => ({ ...e, attributes: { ...e.attributes } })),
      links: s.links.map((l) => ({ ...l, attributes: { ...l.attributes } })),
    };
    if (link !== undefined) {
      copy.parentSpanId = link.inboundSpanId;
      copy.attributes[CONFIDENCE] = link.confidence;
      copy.attributes[INFERRED] = true;
      copy.attributes[SOURCE] = 'collector';
      delete copy.attributes[PROVISIONAL];
    } else if (cut.has(k)) {
      copy.parentSpanId = null;
      delete copy.attributes[CONFIDENCE];
      delete copy.attributes[INFERRED];
      delete copy.attributes[SOURCE];
      copy.attributes[PROVISIONAL] = true;
    }
    return copy;
  });
  return { value, errors };
}
