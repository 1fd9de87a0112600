// Clock-skew correction between hosts, applied top-down to a trace's timeline copy.
//
// A synchronous server span must lie inside the client span that called it:
//
//   client (host A)   |==========================|          raw server times from host B,
//   server (host B)                       |===========|     whose clock runs ahead
//   server adjusted        |===========|                    centred: latency split evenly
//
// When it does not ("skew is evident") the server span is moved so that it sits centred in
// the client's window (the network time is unknown, so it is split evenly both ways); a server
// longer than its client is aligned to the client's start and later clamped. Every descendant
// on the same host moves by the same amount — one host, one clock. A span on another host is
// checked afresh against its (already moved) parent. Asynchronous hops (producer → consumer,
// or any other non-RPC cross-host child) only have causality to go by: a child that starts
// before its parent is moved to the parent's start, otherwise it is left alone.
import type { TimelineNode } from './timeline-tree.ts';

export interface SkewAdjustment {
  spanId: string;
  host: string;
  deltaUs: number; // added to the span's start and end
}

const isRpcServer = (parent: TimelineNode, child: TimelineNode): boolean =>
  child.kind === 'server' && (parent.kind === 'client' || parent.kind === 'unspecified' || parent.kind === 'internal');

/** Shifts nodes in place (they are the private copy) and returns one entry per host hop moved. */
export function adjustSkew(root: TimelineNode): SkewAdjustment[] {
  const adjustments: SkewAdjustment[] = [];
  // Two parallel stacks instead of {node, delta} objects: no allocation per span.
  const nodes: TimelineNode[] = [root];
  const inheritedDeltas: number[] = [0];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    let delta = inheritedDeltas.pop()!;
    const parent = node.parent;
    if (parent !== null && node !== root && parent.host !== node.host) {
      delta = crossHostDelta(parent, node);
      if (delta !== 0) adjustments.push({ spanId: node.spanId, host: node.host, deltaUs: delta });
    }
    node.startUs += delta;
    node.endUs += delta;
    for (const c of node.children) {
      nodes.push(c);
      inheritedDeltas.push(delta);
    }
  }
  return adjustments;
}

// `parent` is already adjusted; `child` still has its raw times.
function crossHostDelta(parent: TimelineNode, child: TimelineNode): number {
  if (isRpcServer(parent, child)) {
    if (child.startUs >= parent.startUs && child.endUs <= parent.endUs) return 0;
    const parentDur = parent.endUs - parent.startUs;
    const childDur = child.endUs - child.startUs;
    if (childDur <= parentDur) return parent.startUs + (parentDur - childDur) / 2 - child.startUs;
    return parent.startUs - child.startUs;
  }
  return child.startUs < parent.startUs ? parent.startUs - child.startUs : 0;
}
