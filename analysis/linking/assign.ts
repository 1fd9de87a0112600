// Global assignment of provisional outbound calls to inbound parents, one workload at a time.
//
//            cap 1, cost 0         cap 1, cost K − ll(o, i)        cap = maxCount(i.op, o.op)
//   source ───────────────▶ out o ─────────────────────────▶ (in i, op) ──────────────▶ sink
//                               └──────── cap 1, cost K − unlinkedLogLikelihood ────────▶ sink
//
// Every outbound sends one unit; a min-cost flow maximises the summed log-likelihood of the
// whole window (maximum-likelihood matching) subject to each inbound request making at most the
// number of calls its operation was ever seen to make. K (the largest log-likelihood) only
// shifts every unit by the same amount so that costs are ≥ 0. The confidence of a link compares
// the best assignment with the best one that avoids that link: Δ nats of log-likelihood give
// confidence 1 / (1 + e^−Δ), the posterior of the winner between the two hypotheses.
// A link below `threshold` is dropped — a wrong link is worse than none.
import type { Span } from '../model.ts';
import { candidatesOf, contains, isProvisional, operationOf, workloadOf } from './attributes.ts';
import { type CallModel, capacityOf, edgeLogLikelihood } from './call-model.ts';
import { type EdgeRef, MinCostFlow } from './min-cost-flow.ts';

export interface Link {
  outboundTraceId: string;
  outboundSpanId: string;
  inboundTraceId: string;
  inboundSpanId: string;
  confidence: number;
}

export interface Unlinked {
  outboundSpanId: string;
  reason: 'no-candidate' | 'over-capacity' | 'below-threshold';
  /** Best candidate and its confidence, for below-threshold calls. */
  best?: { inboundSpanId: string; confidence: number };
}

export interface AssignOptions {
  /** Least confidence (0–1) for a link to be kept. Default 0.9. */
  threshold?: number;
  /** Log-likelihood of leaving a call unlinked; lower means "link when at all possible". Default −60. */
  unlinkedLogLikelihood?: number;
}

export interface Assignment {
  links: Link[];
  unlinked: Unlinked[];
  errors: string[];
}

export function assignProvisional(spans: readonly Span[], model: CallModel, options: AssignOptions = {}): Assignment {
  const threshold = options.threshold ?? 0.9;
  const unlinkedLl = options.unlinkedLogLikelihood ?? -60;
  const out: Assignment = { links: [], unlinked: [], errors: [] };
  if (!(threshold >= 0 && threshold <= 1)) {
    out.errors.push(`assign: threshold must be within [0, 1], got ${threshold}`);
    return out;
  }
  const byWorkload = new Map<string, { inbound: Span[]; outbound: Span[] }>();
  // Calls already linked under each inbound request (forwarded context, or linked online) use
  // up part of its capacity: key inbound span id + operation.
  const serverIds = new Set<string>();
  for (const s of spans) if (s.kind === 'server' && workloadOf(s) !== null) serverIds.add(s.spanId);
  const used = new Map<string, number>();
  for (const s of spans) {
    if (s.kind !== 'client' || s.parentSpanId === null || !serverIds.has(s.parentSpanId)) continue;
    const k = `${s.parentSpanId}\u0000${operationOf(s)}`;
    used.set(k, (used.get(k) ?? 0) + 1);
  }
  for (const s of spans) {
    const w = workloadOf(s);
    if (w === null) continue;
    let g = byWorkload.get(w);
    if (!g) {
      g = { inbound: [], outbound: [] };
      byWorkload.set(w, g);
    }
    if (s.kind === 'server') g.inbound.push(s);
    else if (isProvisional(s)) g.outbound.push(s);
  }
  for (const [w, g] of byWorkload) assignWorkload(w, g.inbound, g.outbound, model, used, threshold, unlinkedLl, out);
  return out;
}

interface Candidate {
  inbound: Span;
  ll: number;
}

function assignWorkload(
  workload: string,
  inbound: Span[],
  outbound: Span[],
  model: CallModel,
  used: Map<string, number>,
  threshold: number,
  unlinkedLl: number,
  out: Assignment,
): void {
  if (outbound.length === 0) return;
  const inboundById = new Map<string, Span>();
  for (const s of inbound) {
    if (inboundById.has(s.spanId))
      out.errors.push(`assign: workload ${workload}: duplicate inbound span id ${s.spanId}`);
    else inboundById.set(s.spanId, s);
  }
  const candidates: Candidate[][] = outbound.map((o) => {
    const ids = candidatesOf(o);
    const pool = ids === null ? inbound : ids.flatMap((id) => inboundById.get(id) ?? []);
    const list: Candidate[] = [];
    for (const i of pool) {
      if (!contains(i, o)) continue;
      const ll = edgeLogLikelihood(model, workload, i, o);
      if (ll !== null && Number.isFinite(ll)) list.push({ inbound: i, ll });
    }
    return list;
  });

  // Calls that share no candidate are independent: solve each connected group on its own,
  // so a long quiet window costs a sum of small problems instead of one large one.
  const root = outbound.map((_, k) => k);
  const find = (k: number): number => {
    while (root[k] !== k) {
      root[k] = root[root[k]!]!;
      k = root[k]!;
    }
    return k;
  };
  const firstUser = new Map<string, number>();
  for (const [k, list] of candidates.entries()) {
    for (const c of list) {
      const f = firstUser.get(c.inbound.spanId);
      if (f === undefined) firstUser.set(c.inbound.spanId, k);
      else root[find(k)] = find(f);
    }
  }
  const groups = new Map<number, number[]>();
  for (const k of outbound.keys()) {
    const r = find(k);
    const g = groups.get(r);
    if (g) g.push(k);
    else groups.set(r, [k]);
  }
  for (const members of groups.values()) {
    assignGroup(
      workload,
      members.map((k) => outbound[k]!),
      members.map((k) => candidates[k]!),
      model,
      used,
      threshold,
      unlinkedLl,
      out,
    );
  }
}

function assignGroup(
  workload: string,
  outbound: Span[],
  candidates: Candidate[][],
  model: CallModel,
  used: Map<string, number>,
  threshold: number,
  unlinkedLl: number,
  out: Assignment,
): void {
  // Node numbering: 0 source, 1 sink, then outbound calls, then (inbound, operation) slots.
  const K = Math.max(unlinkedLl, ...candidates.flatMap((c) => c.map((x) => x.ll)));
  const slotIndex = new Map<string, number>();
  const slotCap: number[] = [];
  const ops = outbound.map((o) => operationOf(o));
  for (const k of outbound.keys()) {
    for (const c of candidates[k]!) {
      const key = `${c.inbound.spanId}\u0000${ops[k]}`;
      if (slotIndex.has(key)) continue;
      slotIndex.set(key, slotCap.length);
      const left = capacityOf(model, workload, operationOf(c.inbound), ops[k]!) - (used.get(key) ?? 0);
      slotCap.push(Math.max(0, Math.min(outbound.length, left)));
    }
  }
  const firstSlot = 2 + outbound.length;
  const g = new MinCostFlow(firstSlot + slotCap.length);
  for (const [s, cap] of slotCap.entries()) g.addEdge(firstSlot + s, 1, cap, 0);
  const edges: { ref: EdgeRef; inbound: Span }[][] = [];
  for (const k of outbound.keys()) {
    g.addEdge(0, 2 + k, 1, 0);
    g.addEdge(2 + k, 1, 1, K - unlinkedLl);
    edges.push(
      candidates[k]!.map((c) => ({
        ref: g.addEdge(2 + k, firstSlot + slotIndex.get(`${c.inbound.spanId}\u0000${ops[k]}`)!, 1, K - c.ll),
        inbound: c.inbound,
      })),
    );
  }
  g.solve(0, 1);

  for (const [k, o] of outbound.entries()) {
    const chosen = edges[k]!.find((e) => g.flowOn(e.ref) > 0);
    if (chosen === undefined) {
      out.unlinked.push({
        outboundSpanId: o.spanId,
        reason: candidates[k]!.length === 0 ? 'no-candidate' : 'over-capacity',
      });
      continue;
    }
    const delta = g.detourCost(chosen.ref);
    const confidence = delta === Number.POSITIVE_INFINITY ? 1 : 1 / (1 + Math.exp(-delta));
    if (confidence < threshold) {
      out.unlinked.push({
        outboundSpanId: o.spanId,
        reason: 'below-threshold',
        best: { inboundSpanId: chosen.inbound.spanId, confidence },
      });
      continue;
    }
    out.links.push({
      outboundTraceId: o.traceId,
      outboundSpanId: o.spanId,
      inboundTraceId: chosen.inbound.traceId,
      inboundSpanId: chosen.inbound.spanId,
      confidence,
    });
  }
}
