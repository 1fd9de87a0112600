// Latency by service and operation: total duration and self time (the part of a span during
// which none of the children it waited for was running), with percentiles.
//
//   span      |==============================|   total 30
//   child A      |=======|                       ┐ union of waited-for children = 8 + 10
//   child B          |===|                       │ (overlaps count once)
//   child C                   |==========|       ┘
//   async D                          |===============|  ends after the span: not waited for
//   self = 30 − 18 = 12
//
// Times are clock-skew corrected first (skew-adjustment.ts) so a server span from a host with
// a fast clock does not eat its client's self time. Traces that cannot be built are reported.
import type { Span } from '../model.ts';
import { type BatchResult, spansByTrace, type TraceError } from './batch.ts';
import { adjustSkew } from './skew-adjustment.ts';
import { summary } from './stats/percentiles.ts';
import { type TimelineNode, timelineTree } from './timeline-tree.ts';

export interface OperationLatency {
  service: string;
  operation: string;
  count: number;
  totalUs: { sum: number; p50: number; p95: number; p99: number; max: number };
  selfUs: { sum: number; p50: number; p95: number; p99: number; max: number };
}

function selfTime(n: TimelineNode): number {
  const intervals: Array<[number, number]> = [];
  for (const c of n.children) {
    const crossHostRpc = c.kind === 'server' && c.host !== n.host;
    if (c.startUs >= n.endUs || c.endUs <= n.startUs || (c.endUs > n.endUs && !crossHostRpc)) continue;
    const a = Math.max(c.startUs, n.startUs);
    const b = Math.min(c.endUs, n.endUs);
    if (b > a) intervals.push([a, b]);
  }
  intervals.sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let curA = Number.NEGATIVE_INFINITY;
  let curB = Number.NEGATIVE_INFINITY;
  for (const [a, b] of intervals) {
    if (a > curB) {
      if (curB > curA) covered += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) covered += curB - curA;
  return n.endUs - n.startUs - covered;
}

export function latencyBreakdown(spans: readonly Span[]): BatchResult<OperationLatency[]> {
  const errors: TraceError[] = [];
  const by = new Map<string, { service: string; operation: string; total: number[]; self: number[] }>();
  for (const [traceId, trace] of spansByTrace(spans)) {
    const tree = timelineTree(trace);
    if (!tree.ok) {
      errors.push({ traceId, reason: tree.reason });
      continue;
    }
    adjustSkew(tree.root);
    for (const n of tree.nodes.values()) {
      const key = `${n.service}\u0000${n.name}`;
      let e = by.get(key);
      if (!e) {
        e = { service: n.service, operation: n.name, total: [], self: [] };
        by.set(key, e);
      }
      e.total.push(n.endUs - n.startUs);
      e.self.push(selfTime(n));
    }
  }
  const pack = (values: number[]) => {
    const s = summary(values);
    return { sum: s.mean * s.count, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max };
  };
  const value = [...by.values()]
    .map((e) => ({
      service: e.service,
      operation: e.operation,
      count: e.total.length,
      totalUs: pack(e.total),
      selfUs: pack(e.self),
    }))
    .sort(
      (a, b) =>
        b.selfUs.sum - a.selfUs.sum || a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation),
    );
  return { value, errors };
}
