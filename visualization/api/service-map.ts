// The service map the UI draws: dependency edges (analysis/analyses/dependency-map.ts) plus one
// node per service with its entry-span request and error counts and p95, so both edges and
// nodes can be coloured by error rate and latency.
import { dependencyMap, type DependencyEdge } from '../../analysis/analyses/dependency-map.ts';
import { isEntrySpan } from '../../analysis/analyses/error-rates.ts';
import { spanFailed } from '../../analysis/analyses/span-failed.ts';
import { summary } from '../../analysis/analyses/stats/percentiles.ts';
import type { Span } from '../../analysis/model.ts';

export interface ServiceNode {
  service: string;
  requests: number;
  errors: number;
  errorRate: number;
  p50Us: number;
  p95Us: number;
  /** No spans of its own: reached only through a client span's peer.service / db.system. */
  uninstrumented: boolean;
}

export interface ServiceMap {
  nodes: ServiceNode[];
  edges: DependencyEdge[];
}

export function serviceMap(spans: readonly Span[]): ServiceMap {
  const edges = dependencyMap(spans);
  const by = new Map<string, { requests: number; errors: number; durations: number[] }>();
  for (const s of spans) {
    let e = by.get(s.service);
    if (!e) {
      e = { requests: 0, errors: 0, durations: [] };
      by.set(s.service, e);
    }
    if (!isEntrySpan(s)) continue;
    e.requests++;
    if (spanFailed(s)) e.errors++;
    e.durations.push(s.endUs - s.startUs);
  }
  const nodes: ServiceNode[] = [...by.entries()].map(([service, e]) => {
    const sum = e.durations.length > 0 ? summary(e.durations) : { p50: 0, p95: 0 };
    return {
      service,
      requests: e.requests,
      errors: e.errors,
      errorRate: e.requests > 0 ? e.errors / e.requests : 0,
      p50Us: sum.p50,
      p95Us: sum.p95,
      uninstrumented: false,
    };
  });
  for (const edge of edges) {
    if (by.has(edge.callee) || nodes.some((n) => n.service === edge.callee)) continue;
    nodes.push({
      service: edge.callee,
      requests: edge.calls,
      errors: edge.errors,
      errorRate: edge.errorRate,
      p50Us: edge.p50Us,
      p95Us: edge.p95Us,
      uninstrumented: true,
    });
  }
  nodes.sort((a, b) => a.service.localeCompare(b.service));
  return { nodes, edges };
}
