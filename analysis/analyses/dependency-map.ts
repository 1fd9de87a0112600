// Service dependency map: an edge caller → callee for every span whose parent belongs to
// another service (the callee's server/consumer span under the caller's client/producer
// span), plus an edge to `peer.service` for client spans whose callee sent no spans (an
// uninstrumented database or third party). Latency is the callee-side span's duration
// (or the client span's when the callee is uninstrumented); errors are callee-side failures.
import type { Span } from '../model.ts';
import { summary } from './stats/percentiles.ts';
import { spanFailed } from './span-failed.ts';

export interface DependencyEdge {
  caller: string;
  callee: string;
  calls: number;
  errors: number;
  errorRate: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
}

export function dependencyMap(spans: readonly Span[]): DependencyEdge[] {
  const byId = new Map<string, Span>();
  for (const s of spans) byId.set(`${s.traceId}/${s.spanId}`, s);
  const hasRemoteChild = new Set<string>();
  const edges = new Map<string, { caller: string; callee: string; errors: number; durations: number[] }>();
  const add = (caller: string, callee: string, s: Span) => {
    const key = `${caller}\u0000${callee}`;
    let e = edges.get(key);
    if (!e) {
      e = { caller, callee, errors: 0, durations: [] };
      edges.set(key, e);
    }
    e.durations.push(s.endUs - s.startUs);
    if (spanFailed(s)) e.errors++;
  };
  for (const s of spans) {
    if (s.parentSpanId === null) continue;
    const parent = byId.get(`${s.traceId}/${s.parentSpanId}`);
    if (!parent || parent.service === s.service) continue;
    hasRemoteChild.add(`${s.traceId}/${parent.spanId}`);
    add(parent.service, s.service, s);
  }
  for (const s of spans) {
    if (s.kind !== 'client' || hasRemoteChild.has(`${s.traceId}/${s.spanId}`)) continue;
    const peer =
      s.attributes['peer.service'] ??
      s.attributes['db.system.name'] ??
      s.attributes['db.system'] ??
      s.attributes['server.address'];
    if (typeof peer === 'string' && peer !== '' && peer !== s.service) add(s.service, peer, s);
  }
  return [...edges.values()]
    .map((e) => {
      const sum = summary(e.durations);
      return {
        caller: e.caller,
        callee: e.callee,
        calls: e.durations.length,
        errors: e.errors,
        errorRate: e.errors / e.durations.length,
        p50Us: sum.p50,
        p95Us: sum.p95,
        p99Us: sum.p99,
      };
    })
    .sort((a, b) => a.caller.localeCompare(b.caller) || a.callee.localeCompare(b.callee));
}
