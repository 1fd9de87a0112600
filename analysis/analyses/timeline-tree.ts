// One trace copied into a private, mutable shape for timeline work (critical path, clock-skew
// adjustment). The caller's Span objects are never touched: everything below works on copies.
import type { Span, SpanKind } from '../model.ts';

export interface TimelineNode {
  spanId: string;
  service: string;
  name: string;
  kind: SpanKind;
  host: string;
  startUs: number; // adjusted in place by skew correction / clamping
  endUs: number;
  parent: TimelineNode | null;
  children: TimelineNode[];
}

export type TimelineTree =
  | { ok: true; root: TimelineNode; nodes: Map<string, TimelineNode> }
  | { ok: false; reason: string };

/**
 * The host whose clock stamped a span: `host.name`, else `service.instance.id`, else the service.
 * Spans from one host share one clock, so a skew correction applies to all of them alike.
 */
export function hostOf(s: Span): string {
  const h = s.resource['host.name'] ?? s.resource['service.instance.id'];
  return typeof h === 'string' && h !== '' ? h : s.service;
}

/**
 * Builds the tree of one trace. The root is the span without a parent; spans whose parent is
 * missing from the trace are dropped from the tree (they cannot be placed on the root's
 * timeline). Several parentless spans: the longest is the root — a trace fragment cannot
 * have a meaningful critical path across disjoint roots.
 */
export function timelineTree(spans: readonly Span[]): TimelineTree {
  if (spans.length === 0) return { ok: false, reason: 'trace has no spans' };
  const nodes = new Map<string, TimelineNode>();
  const ordered: TimelineNode[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (s.endUs < s.startUs) return { ok: false, reason: `span ${s.spanId} ends before it starts` };
    const node: TimelineNode = {
      spanId: s.spanId,
      service: s.service,
      name: s.name,
      kind: s.kind,
      host: hostOf(s),
      startUs: s.startUs,
      endUs: s.endUs,
      parent: null,
      children: [],
    };
    nodes.set(s.spanId, node);
    ordered[i] = node;
  }
  if (nodes.size !== spans.length) {
    // A repeated id overwrote an entry above; find it to say which.
    const seen = new Set<string>();
    for (const s of spans) {
      if (seen.has(s.spanId)) return { ok: false, reason: `span id ${s.spanId} appears twice` };
      seen.add(s.spanId);
    }
  }
  let root: TimelineNode | null = null;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const node = ordered[i]!;
    const parentId = s.parentSpanId;
    const parent = parentId === null || parentId === s.spanId ? undefined : nodes.get(parentId);
    if (parent !== undefined) {
      node.parent = parent;
      parent.children.push(node);
    } else if (parentId === null || !nodes.has(parentId)) {
      if (root === null || node.endUs - node.startUs > root.endUs - root.startUs) root = node;
    }
  }
  if (root === null) return { ok: false, reason: 'trace has no root span (every span has a parent)' };
  return { ok: true, root, nodes };
}
