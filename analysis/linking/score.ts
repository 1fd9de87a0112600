// How right a set of linked spans is, against the ground truth the legacy test services write
// (examples/legacy/README.md): each service records, per request it served, the x-request-id it
// received and those it sent. Spans carry the same ids (`envoy.request_id`), so every true
// inbound → outbound edge can be looked up and checked — never through trace headers.
import type { Span } from '../model.ts';

/** One request a service served: its x-request-id and those of the calls it made. */
export interface GroundTruth {
  service: string;
  in: string;
  op: string;
  out: string[];
}

export interface LinkingScore {
  /** True app edges (a request → a call it made) whose two spans were both found. */
  edges: number;
  /** Edges with a span missing (not exported, or not yet arrived). */
  missing: number;
  /** The call's span has the request's span as parent, in its trace. */
  correct: number;
  /** The call's span has another parent. */
  wrong: number;
  /** The call's span has no parent. */
  unlinked: number;
  /** Top-level requests scored. */
  requests: number;
  /** Requests whose whole trace is exactly right: every edge below them correct, every hop's
   * propagation intact, and no span of another request in their trace. */
  exact: number;
}

export const REQUEST_ID = 'envoy.request_id';

const key = (service: string, id: string) => `${service}\u0000${id}`;

export function scoreLinking(
  spans: readonly Span[],
  truth: readonly GroundTruth[],
  roots: readonly string[],
): LinkingScore {
  const server = new Map<string, Span>();
  const client = new Map<string, Span>();
  const traceSize = new Map<string, number>();
  for (const s of spans) {
    traceSize.set(s.traceId, (traceSize.get(s.traceId) ?? 0) + 1);
    const rid = s.attributes[REQUEST_ID];
    if (typeof rid !== 'string') continue;
    if (s.kind === 'server') server.set(key(s.service, rid), s);
    else if (s.kind === 'client') client.set(key(s.service, rid), s);
  }
  const byIn = new Map<string, GroundTruth>();
  for (const g of truth) if (typeof g.in === 'string') byIn.set(g.in, g);

  const score: LinkingScore = { edges: 0, missing: 0, correct: 0, wrong: 0, unlinked: 0, requests: 0, exact: 0 };
  const edgeOk = new Map<string, boolean>();
  for (const g of truth) {
    const parent = server.get(key(g.service, g.in));
    for (const o of g.out) {
      const call = client.get(key(g.service, o));
      if (parent === undefined || call === undefined) {
        score.missing++;
        edgeOk.set(o, false);
        continue;
      }
      score.edges++;
      const ok = call.parentSpanId === parent.spanId && call.traceId === parent.traceId;
      edgeOk.set(o, ok);
      if (ok) score.correct++;
      else if (call.parentSpanId === null) score.unlinked++;
      else score.wrong++;
    }
  }

  for (const root of roots) {
    const g = byIn.get(root);
    if (g === undefined) continue;
    score.requests++;
    const top = server.get(key(g.service, root));
    if (top === undefined) continue;
    // Walk the request's tree: each call correct, each callee's server span under the call.
    let expected = 1;
    let ok = true;
    const stack: GroundTruth[] = [g];
    while (stack.length > 0 && ok) {
      const cur = stack.pop()!;
      for (const o of cur.out) {
        if (edgeOk.get(o) !== true) {
          ok = false;
          break;
        }
        const call = client.get(key(cur.service, o))!;
        const callee = byIn.get(o);
        const hop = callee === undefined ? undefined : server.get(key(callee.service, o));
        if (
          callee === undefined ||
          hop === undefined ||
          hop.parentSpanId !== call.spanId ||
          hop.traceId !== top.traceId
        ) {
          ok = false;
          break;
        }
        expected += 2;
        stack.push(callee);
      }
    }
    if (ok && traceSize.get(top.traceId) === expected) score.exact++;
  }
  return score;
}
