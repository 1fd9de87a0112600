// The trigger assignment of a window (assign-chains.ts draws it): every start picks the event
// that set it off, each event setting off at most one thing, as one min-cost flow solved chunk
// by chunk in time order. Costs are K − log-likelihood, so the optimum is the likeliest
// assignment; a chosen trigger's confidence is 1 / (1 + e^−Δ), Δ the log-likelihood the window
// loses when that trigger is forbidden (MinCostFlow.detourCost).
import { type EdgeRef, MinCostFlow } from './min-cost-flow.ts';

/** A possible trigger: P event `p` set off S event `s` with log-likelihood `ll`. */
export interface Cand {
  p: number;
  s: number;
  ll: number;
}

export interface Solved {
  /** Each S's trigger (index into the candidates), or -1 for an orphan. */
  trigger: Int32Array;
  /**
   * Confidence of a chosen trigger (by candidate index), computed on demand; with `rivals`
   * (candidate indices), against every choice but those too — e.g. "set off by an arrival at all".
   */
  confidence(k: number, rivals?: readonly number[]): number;
}

/**
 * Starts and responses per solve. Triggers reach back a few milliseconds, so a window is solved
 * in consecutive chunks of events, each seeing the triggers earlier chunks left free: the cost
 * grows linearly with the window instead of quadratically, and only choices across a seam can
 * differ from one global solve. 128 rather than 256: the same links on three recorded windows
 * of the legacy topology (edges correct within 0.3 point, wrong within 0.2) in 55–60 % of the time.
 */
const CHUNK = 128;

/**
 *                 cap 1, cost K − ll(p → s)
 *   source ─▶ P ──────────────────────────▶ S ─▶ sink        P: events that can set something off
 *     │         └─ cap 1, K − ll(p → nothing) ─▶ DP ─▶ sink   S: events that something set off
 *     └─▶ DS ─ cap 1, K + orphan ─▶ S                          (cap |P|)
 *          └──────── cost K ──────▶ DP
 *
 * Supply |P| + |S|: every S receives exactly one unit — from its trigger, or as an orphan — and
 * every P sends one, to what it set off or to "nothing".
 */
export function solveTriggers(
  nP: number,
  nS: number,
  cands: readonly Cand[],
  llNone: readonly number[],
  K: number,
  /** Cost over K of an S with no trigger: one for all, or one per S. */
  orphanCost: number | readonly number[],
  /** Candidates (by index) that may not be chosen. */
  forbidden: ReadonlySet<number> = new Set(),
): Solved {
  const trigger = new Int32Array(nS).fill(-1);
  const used = new Uint8Array(nP);
  const bySink: number[][] = Array.from({ length: nS }, () => []);
  for (const [k, c] of cands.entries()) if (!forbidden.has(k)) bySink[c.s]!.push(k);
  const owner: { g: MinCostFlow; ref: EdgeRef }[] = new Array(cands.length);
  for (let from = 0; from < nS; from += CHUNK) {
    const to = Math.min(nS, from + CHUNK);
    // This chunk's starts/responses and the still-free events that could have triggered them.
    const localP = new Map<number, number>();
    const ks: number[] = [];
    for (let j = from; j < to; j++) {
      for (const k of bySink[j]!) {
        const p = cands[k]!.p;
        if (used[p]) continue;
        if (!localP.has(p)) localP.set(p, localP.size);
        ks.push(k);
      }
    }
    // 0 source, 1 sink, 2 DS, 3 DP, then the chunk's P, then its S.
    const nLocalS = to - from;
    const firstP = 4;
    const firstS = firstP + localP.size;
    const g = new MinCostFlow(firstS + nLocalS);
    for (const [p, i] of localP) {
      g.addEdge(0, firstP + i, 1, 0);
      g.addEdge(firstP + i, 3, 1, K - llNone[p]!);
    }
    g.addEdge(0, 2, nLocalS, 0);
    g.addEdge(2, 3, nLocalS, K);
    for (let j = 0; j < nLocalS; j++) {
      g.addEdge(2, firstS + j, 1, K + (typeof orphanCost === 'number' ? orphanCost : orphanCost[from + j]!));
      g.addEdge(firstS + j, 1, 1, 0);
    }
    g.addEdge(3, 1, localP.size, 0);
    const refs = ks.map((k) =>
      g.addEdge(firstP + localP.get(cands[k]!.p)!, firstS + cands[k]!.s - from, 1, K - cands[k]!.ll),
    );
    g.solve(0, 1);
    for (const [i, k] of ks.entries()) {
      owner[k] = { g, ref: refs[i]! };
      if (g.flowOn(refs[i]!) > 0) {
        trigger[cands[k]!.s] = k;
        used[cands[k]!.p] = 1;
      }
    }
  }
  const cache = new Map<number, number>();
  return {
    trigger,
    confidence(k, rivals = []) {
      let v = rivals.length === 0 ? cache.get(k) : undefined;
      if (v === undefined) {
        const o = owner[k]!;
        const banned = rivals.flatMap((r) =>
          owner[r] !== undefined && owner[r]!.g === o.g && r !== k ? [owner[r]!.ref] : [],
        );
        const delta = o.g.detourCost(o.ref, banned);
        v = delta === Number.POSITIVE_INFINITY ? 1 : 1 / (1 + Math.exp(-delta));
        if (rivals.length === 0) cache.set(k, v);
      }
      return v;
    },
  };
}
