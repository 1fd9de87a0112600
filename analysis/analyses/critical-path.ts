// Critical path of one trace: the chain of work that determined the root span's duration.
//
// Walk backwards from the root's end. At every moment the critical path is in the span that
// the current span was waiting for — the child that finished last before that moment; when no
// child was running, the time is the span's own ("self") work:
//
//   time →        0    10   20   30   40   50   60   70   80   90  100
//   root          |==================================================|
//     A                |=========|                                      sequential
//     B                          |========================|             ┐ overlapping
//     C                               |==============|                  ┘ siblings
//     D (async)                                        |==================|==> outlives root
//
//   critical path: root 0–10, A 10–30, B 30–80, root 80–100
//
// * Overlapping siblings: B finishes last, so B is on the path; C ran inside B's time and
//   did not delay the root. A sibling still running when the later one started (it ends after
//   the cursor) is taken with its end cut at the cursor: the parent was waiting on it then.
// * Async (fire-and-forget) children: D ends after its parent, so the parent did not wait for
//   it; it is left off the path (a child starting after the parent's end likewise).
//   Exception: an RPC server span that sticks out of its client span — that is clock skew, not
//   asynchrony, and is corrected first (see skew-adjustment.ts), then clamped into the window.
// * Sections carry skew-adjusted times; the input spans are copied, never changed.
import type { Span } from '../model.ts';
import { adjustSkew, type SkewAdjustment } from './skew-adjustment.ts';
import { type TimelineNode, timelineTree } from './timeline-tree.ts';

export interface CriticalPathSection {
  spanId: string;
  service: string;
  name: string;
  startUs: number;
  endUs: number;
}

export interface CriticalPath {
  traceId: string;
  rootSpanId: string;
  startUs: number;
  endUs: number;
  /** Chronological, non-overlapping, covering [startUs, endUs] exactly. */
  sections: CriticalPathSection[];
  skewAdjustments: SkewAdjustment[];
  /** Children left off because their parent did not wait for them (or lie wholly outside it). */
  asyncSpanIds: string[];
}

export type CriticalPathResult = { ok: true; value: CriticalPath } | { ok: false; reason: string };

/** Critical path of the spans of one trace. */
export function criticalPath(spans: readonly Span[]): CriticalPathResult {
  const tree = timelineTree(spans);
  if (!tree.ok) return tree;
  const traceId = spans[0]!.traceId;
  for (const s of spans) {
    if (s.traceId !== traceId) return { ok: false, reason: `spans of two traces given (${traceId}, ${s.traceId})` };
  }
  const { root } = tree;
  const skewAdjustments = adjustSkew(root);
  const asyncSpanIds: string[] = [];
  const waitedOn = new Map<TimelineNode, TimelineNode[]>();
  const syncChildren = (node: TimelineNode): TimelineNode[] => {
    const kids: TimelineNode[] = [];
    for (const c of node.children) {
      const crossHostRpc = c.kind === 'server' && c.host !== node.host;
      if (c.startUs >= node.endUs || c.endUs <= node.startUs || (c.endUs > node.endUs && !crossHostRpc)) {
        asyncSpanIds.push(c.spanId);
        continue;
      }
      // Clamp into the parent's window: after skew correction only a server span longer than
      // its client (or one starting before its parent) can still stick out.
      c.startUs = Math.max(c.startUs, node.startUs);
      c.endUs = Math.min(c.endUs, node.endUs);
      kids.push(c);
    }
    kids.sort((a, b) => b.endUs - a.endUs || a.startUs - b.startUs);
    waitedOn.set(node, kids);
    return kids;
  };

  // Iterative walk (a 10,000-deep chain must not overflow the stack). Sections come out in
  // reverse time order: each frame emits its gap [childEnd, cursor] before descending.
  const reversed: CriticalPathSection[] = [];
  const emit = (n: TimelineNode, startUs: number, endUs: number) => {
    if (endUs > startUs) reversed.push({ spanId: n.spanId, service: n.service, name: n.name, startUs, endUs });
  };
  interface Frame {
    node: TimelineNode;
    cursor: number;
    next: number;
    kids: TimelineNode[];
  }
  const stack: Frame[] = [{ node: root, cursor: root.endUs, next: 0, kids: syncChildren(root) }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    let chosen: TimelineNode | null = null;
    // Children are in end-descending order, so the first one that started before the cursor
    // is the one that finished last before it; any skipped child started after the cursor,
    // and the cursor only moves back, so it can never be chosen later.
    while (f.next < f.kids.length) {
      const c = f.kids[f.next++]!;
      if (c.startUs < f.cursor) {
        chosen = c;
        break;
      }
    }
    if (chosen === null) {
      emit(f.node, f.node.startUs, f.cursor);
      stack.pop();
      continue;
    }
    const childEnd = Math.min(chosen.endUs, f.cursor);
    emit(f.node, childEnd, f.cursor);
    f.cursor = chosen.startUs;
    stack.push({ node: chosen, cursor: childEnd, next: 0, kids: waitedOn.get(chosen) ?? syncChildren(chosen) });
  }
  return {
    ok: true,
    value: {
      traceId,
      rootSpanId: root.spanId,
      startUs: root.startUs,
      endUs: root.endUs,
      sections: reversed.reverse(),
      skewAdjustments,
      asyncSpanIds,
    },
  };
}
