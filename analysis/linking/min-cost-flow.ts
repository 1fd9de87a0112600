// Min-cost flow by successive shortest paths (Dijkstra with Johnson potentials), the solver
// behind the global assignment. Edge costs must be ≥ 0 when solve() starts, so the first
// potentials (all 0) are valid; after each augmentation potentials += distance keeps every
// residual reduced cost ≥ 0 (Ahuja, Magnanti & Orlin, "Network Flows", §9.7).
// Capacities are integers; an optimal flow has no negative residual cycle, which is what
// detourCost() relies on.

interface Edge {
  to: number;
  cap: number;
  cost: number;
  rev: number; // index of the reverse edge in adj[to]
}

export interface EdgeRef {
  from: number;
  index: number;
}

export class MinCostFlow {
  private readonly adj: Edge[][];

  constructor(readonly nodes: number) {
    this.adj = Array.from({ length: nodes }, () => []);
  }

  addEdge(from: number, to: number, cap: number, cost: number): EdgeRef {
    if (cost < 0) throw new Error(`min-cost-flow: edge ${from}→${to} has negative cost ${cost}`);
    const a = this.adj[from]!;
    const b = this.adj[to]!;
    a.push({ to, cap, cost, rev: b.length });
    b.push({ to: from, cap: 0, cost: -cost, rev: a.length - 1 });
    return { from, index: a.length - 1 };
  }

  /** Units sent along an edge added with addEdge. */
  flowOn(e: EdgeRef): number {
    const edge = this.adj[e.from]![e.index]!;
    return this.adj[edge.to]![edge.rev]!.cap;
  }

  /** Push up to `limit` units from s to t at least cost; returns the flow and its cost. */
  solve(s: number, t: number, limit = Number.POSITIVE_INFINITY): { flow: number; cost: number } {
    this.detourPotential = null;
    const n = this.nodes;
    const potential = new Float64Array(n);
    let flow = 0;
    let cost = 0;
    // One set of search arrays for every augmentation (a window makes thousands of them).
    const dist = new Float64Array(n);
    const prevNode = new Int32Array(n);
    const prevEdge = new Int32Array(n);
    const heap = new MinHeap();
    while (flow < limit) {
      dist.fill(Number.POSITIVE_INFINITY);
      prevNode.fill(-1);
      prevEdge.fill(-1);
      heap.clear();
      dist[s] = 0;
      heap.push(0, s);
      while (heap.size > 0) {
        const [d, u] = heap.pop();
        if (d > dist[u]!) continue;
        // The sink is settled: nothing further can shorten its path.
        if (u === t) break;
        const edges = this.adj[u]!;
        for (let i = 0; i < edges.length; i++) {
          const e = edges[i]!;
          if (e.cap <= 0) continue;
          const nd = d + e.cost + potential[u]! - potential[e.to]!;
          if (nd < dist[e.to]! - 1e-12) {
            dist[e.to] = nd;
            prevNode[e.to] = u;
            prevEdge[e.to] = i;
            heap.push(nd, e.to);
          }
        }
      }
      if (dist[t] === Number.POSITIVE_INFINITY) break;
      // Stopping at the sink leaves farther nodes unsettled; raising every potential by
      // min(dist, dist[t]) still keeps each residual reduced cost ≥ 0 (the usual early-exit
      // form of Johnson's reweighting).
      const dt = dist[t]!;
      for (let v = 0; v < n; v++) potential[v]! += Math.min(dist[v]!, dt);
      let push = limit - flow;
      for (let v = t; v !== s; v = prevNode[v]!) push = Math.min(push, this.adj[prevNode[v]!]![prevEdge[v]!]!.cap);
      for (let v = t; v !== s; v = prevNode[v]!) {
        const e = this.adj[prevNode[v]!]![prevEdge[v]!]!;
        e.cap -= push;
        this.adj[v]![e.rev]!.cap += push;
        cost += push * e.cost;
      }
      flow += push;
    }
    return { flow, cost };
  }

  private detourPotential: Float64Array | null = null;

  /**
   * After solve(): the least extra cost of an optimal flow that no longer uses one unit of
   * edge `e` (from → to). Withdrawing the unit and re-routing it is a residual path from `from`
   * back to `to` that avoids `e`. The optimal residual graph has no negative cycle, so
   * potentials from one Bellman-Ford pass (Johnson) make every reduced cost ≥ 0 and each
   * detour is a Dijkstra search that stops as soon as it reaches `to`.
   * Infinity when no alternative exists. Edges in `alsoBanned` (same graph) may not carry the
   * re-routed unit either: the cost of giving up all of them at once.
   */
  detourCost(e: EdgeRef, alsoBanned: readonly EdgeRef[] = []): number {
    const pot = this.detourPotential ?? this.residualPotential();
    this.detourPotential = pot;
    const banned = this.adj[e.from]![e.index]!;
    const bannedReverse = this.adj[banned.to]![banned.rev]!;
    const others = new Set<Edge>();
    for (const b of alsoBanned) {
      const x = this.adj[b.from]![b.index]!;
      others.add(x);
      others.add(this.adj[x.to]![x.rev]!);
    }
    const target = banned.to;
    const dist = new Float64Array(this.nodes).fill(Number.POSITIVE_INFINITY);
    dist[e.from] = 0;
    const heap = new MinHeap();
    heap.push(0, e.from);
    while (heap.size > 0) {
      const [d, u] = heap.pop();
      if (d > dist[u]!) continue;
      if (u === target) break;
      const edges = this.adj[u]!;
      for (let i = 0; i < edges.length; i++) {
        const x = edges[i]!;
        if (x.cap <= 0 || x === banned || x === bannedReverse || others.has(x)) continue;
        const nd = d + Math.max(0, x.cost + pot[u]! - pot[x.to]!);
        if (nd < dist[x.to]! - 1e-12) {
          dist[x.to] = nd;
          heap.push(nd, x.to);
        }
      }
    }
    const reduced = dist[target]!;
    if (reduced === Number.POSITIVE_INFINITY) return reduced;
    return reduced - pot[e.from]! + pot[target]! - banned.cost;
  }

  /** Shortest distances from a virtual node joined to every node at cost 0, over the residual graph. */
  private residualPotential(): Float64Array {
    const n = this.nodes;
    const dist = new Float64Array(n); // all 0: the virtual node's edges
    const inQueue = new Uint8Array(n).fill(1);
    const queue: number[] = Array.from({ length: n }, (_, i) => i);
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!;
      inQueue[u] = 0;
      for (const x of this.adj[u]!) {
        if (x.cap <= 0) continue;
        const nd = dist[u]! + x.cost;
        if (nd < dist[x.to]! - 1e-9) {
          dist[x.to] = nd;
          if (!inQueue[x.to]) {
            inQueue[x.to] = 1;
            queue.push(x.to);
          }
        }
      }
    }
    return dist;
  }
}

class MinHeap {
  private readonly keys: number[] = [];
  private readonly vals: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  clear(): void {
    this.keys.length = 0;
    this.vals.length = 0;
  }
  push(k: number, v: number): void {
    const keys = this.keys;
    const vals = this.vals;
    let i = keys.length;
    keys.push(k);
    vals.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= k) break;
      keys[i] = keys[p]!;
      vals[i] = vals[p]!;
      i = p;
    }
    keys[i] = k;
    vals[i] = v;
  }
  pop(): [number, number] {
    const keys = this.keys;
    const vals = this.vals;
    const top: [number, number] = [keys[0]!, vals[0]!];
    const k = keys.pop()!;
    const v = vals.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && keys[r]! < keys[l]! ? r : l;
        if (keys[c]! >= k) break;
        keys[i] = keys[c]!;
        vals[i] = vals[c]!;
        i = c;
      }
      keys[i] = k;
      vals[i] = v;
    }
    return top;
  }
}
