// The baseline the global assignment is measured against: what an online filter without a
// model does — give each provisional outbound call to the most recently started inbound request
// of its workload still in flight when the call left (first-come-first-served, LIFO on starts).
import type { Span } from '../model.ts';
import { candidatesOf, isProvisional, workloadOf } from './attributes.ts';
import type { Link } from './assign.ts';

export function assignGreedy(spans: readonly Span[]): Link[] {
  const inbound = new Map<string, Span[]>();
  const byId = new Map<string, Span>();
  for (const s of spans) {
    const w = workloadOf(s);
    if (s.kind !== 'server' || w === null) continue;
    byId.set(s.spanId, s);
    const l = inbound.get(w);
    if (l) l.push(s);
    else inbound.set(w, [s]);
  }
  const links: Link[] = [];
  for (const o of spans) {
    const w = workloadOf(o);
    if (w === null || !isProvisional(o)) continue;
    const ids = candidatesOf(o);
    const pool = ids === null ? (inbound.get(w) ?? []) : ids.flatMap((id) => byId.get(id) ?? []);
    let best: Span | null = null;
    for (const i of pool) {
      if (workloadOf(i) !== w || i.startUs > o.startUs || i.endUs < o.startUs) continue;
      if (best === null || i.startUs > best.startUs) best = i;
    }
    if (best !== null) {
      links.push({
        outboundTraceId: o.traceId,
        outboundSpanId: o.spanId,
        inboundTraceId: best.traceId,
        inboundSpanId: best.spanId,
        confidence: 1,
      });
    }
  }
  return links;
}
