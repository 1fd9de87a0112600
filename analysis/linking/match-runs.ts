// Runs to requests: each run (the calls one request made, joined by their call → call triggers)
// goes to at most one request and each request takes at most one run, scored on both ends at
// once — its arrival setting off the run's first call, the run's last answer setting off its
// response. Scoring the two ends jointly is the point: matched one trigger at a time, a
// request's first call and its last answer can each pick a different neighbour, and no single
// trigger says that the pair is inconsistent.
//
//   source ─▶ run ─ cap 1, K + alone(i) − ll(run → i) ─▶ request i ─▶ sink
//               └── cap 1, K + orphan ─▶ DROP ─▶ sink
//
// Every run sends one unit. A request that takes a run gives up making no call (alone(i): its
// arrival set off its response), so the flow's cost is the window's negative log-likelihood up
// to a constant. Solved chunk by chunk of runs in time order, as the trigger solve is.
import { type EdgeRef, MinCostFlow } from './min-cost-flow.ts';

export interface RunCandidate {
  run: number;
  request: number;
  /** Log-likelihood of the run's first call and of the request's response under this pairing. */
  ll: number;
}

export interface RunMatchInput {
  /** Runs, indexed in time order of their first call. */
  runs: number;
  requests: number;
  candidates: readonly RunCandidate[];
  /** Per request: log-likelihood that it made no call at all. */
  llAlone: readonly number[];
  /** Cost (nats) of a run no request made. */
  orphanCost: number;
}

export interface RunMatch {
  /** Each run's request, or -1. */
  requestOf: Int32Array;
  /** 1 / (1 + e^−Δ) for a matched run, Δ the log-likelihood lost when its pairing is forbidden. */
  confidence(run: number): number;
}

/** Runs per solve: a run competes with the few requests in flight around it, not the window. */
const CHUNK = 128;

export function matchRuns(input: RunMatchInput): RunMatch {
  const { runs, candidates, llAlone, orphanCost } = input;
  const requestOf = new Int32Array(runs).fill(-1);
  const byRun: number[][] = Array.from({ length: runs }, () => []);
  for (const [k, c] of candidates.entries()) byRun[c.run]!.push(k);
  const cost = (c: RunCandidate) => llAlone[c.request]! - c.ll;
  let K = Math.max(0, -orphanCost);
  for (const c of candidates) K = Math.max(K, -cost(c));
  const used = new Uint8Array(input.requests);
  const chosen: ({ g: MinCostFlow; ref: EdgeRef } | undefined)[] = new Array(runs);
  for (let from = 0; from < runs; from += CHUNK) {
    const to = Math.min(runs, from + CHUNK);
    const local = new Map<number, number>();
    const ks: number[] = [];
    for (let j = from; j < to; j++)
      for (const k of byRun[j]!) {
        const r = candidates[k]!.request;
        if (used[r]) continue;
        if (!local.has(r)) local.set(r, local.size);
        ks.push(k);
      }
    // 0 source, 1 sink, 2 DROP, then the chunk's runs, then its requests.
    const firstRun = 3;
    const firstReq = firstRun + (to - from);
    const g = new MinCostFlow(firstReq + local.size);
    for (let j = from; j < to; j++) {
      g.addEdge(0, firstRun + j - from, 1, 0);
      g.addEdge(firstRun + j - from, 2, 1, K + orphanCost);
    }
    g.addEdge(2, 1, to - from, 0);
    for (const i of local.values()) g.addEdge(firstReq + i, 1, 1, 0);
    const refs = ks.map((k) => {
      const c = candidates[k]!;
      return g.addEdge(firstRun + c.run - from, firstReq + local.get(c.request)!, 1, K + cost(c));
    });
    g.solve(0, 1);
    for (const [x, k] of ks.entries()) {
      if (g.flowOn(refs[x]!) <= 0) continue;
      const c = candidates[k]!;
      requestOf[c.run] = c.request;
      used[c.request] = 1;
      chosen[c.run] = { g, ref: refs[x]! };
    }
  }
  const cache = new Map<number, number>();
  return {
    requestOf,
    confidence(run) {
      const o = chosen[run];
      if (o === undefined) return 0;
      let v = cache.get(run);
      if (v === undefined) {
        const delta = o.g.detourCost(o.ref);
        v = delta === Number.POSITIVE_INFINITY ? 1 : 1 / (1 + Math.exp(-delta));
        cache.set(run, v);
      }
      return v;
    },
  };
}
