// The solver against brute force on small seeded assignment problems: optimum, and the
// detour cost (best assignment without one chosen edge — or without it and a set of rivals)
// behind every link confidence.
import test from 'ava';
import { Prng } from '../../analysis/generate/prng.ts';
import { type EdgeRef, MinCostFlow } from '../../analysis/linking/min-cost-flow.ts';

/** Best total cost of assigning each row to a distinct column, or to "none" at `skip`; `banned` cells excluded. */
function bruteForce(cost: number[][], skip: number, ...banned: [number, number][]): number {
  const cols = cost[0]!.length;
  let best = Number.POSITIVE_INFINITY;
  const used = new Array<boolean>(cols).fill(false);
  const go = (r: number, acc: number) => {
    if (r === cost.length) {
      best = Math.min(best, acc);
      return;
    }
    go(r + 1, acc + skip);
    for (let c = 0; c < cols; c++) {
      if (used[c] || banned.some(([br, bc]) => br === r && bc === c)) continue;
      used[c] = true;
      go(r + 1, acc + cost[r]![c]!);
      used[c] = false;
    }
  };
  go(0, 0);
  return best;
}

/** Rows to distinct columns or to "none" at `skip`: source 0, sink 1, then rows, then columns. */
function assignmentGraph(cost: number[][], skip: number): { g: MinCostFlow; cells: EdgeRef[][] } {
  const rows = cost.length;
  const cols = cost[0]!.length;
  const g = new MinCostFlow(2 + rows + cols);
  const cells = cost.map((row, r) => row.map((c, col) => g.addEdge(2 + r, 2 + rows + col, 1, c)));
  for (let r = 0; r < rows; r++) {
    g.addEdge(0, 2 + r, 1, 0);
    g.addEdge(2 + r, 1, 1, skip);
  }
  for (let c = 0; c < cols; c++) g.addEdge(2 + rows + c, 1, 1, 0);
  return { g, cells };
}

test('optimum and detour costs match brute force on 200 random 4×4 problems', (t) => {
  const p = new Prng(9);
  for (let round = 0; round < 200; round++) {
    const rows = p.int(1, 5);
    const cols = p.int(1, 5);
    const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => p.int(0, 50)));
    const skip = 40;
    const { g, cells } = assignmentGraph(cost, skip);
    const { flow, cost: total } = g.solve(0, 1);
    t.is(flow, rows);
    const best = bruteForce(cost, skip);
    t.is(total, best, `round ${round}`);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (g.flowOn(cells[r]![c]!) === 0) continue;
        t.is(g.detourCost(cells[r]![c]!), bruteForce(cost, skip, [r, c]) - best, `round ${round} cell ${r},${c}`);
      }
    }
  }
});

test('detour cost without a chosen edge and its rivals into the same column matches brute force', (t) => {
  // assign-chains.ts asks "how sure is this call a first call": the chosen arrival → start edge
  // and every other arrival's edge into that start are given up at once.
  const p = new Prng(17);
  let checked = 0;
  for (let round = 0; round < 200; round++) {
    const rows = p.int(2, 5);
    const cols = p.int(1, 5);
    const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => p.int(0, 50)));
    const skip = 40;
    const { g, cells } = assignmentGraph(cost, skip);
    g.solve(0, 1);
    const best = bruteForce(cost, skip);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        if (g.flowOn(cells[r]![c]!) === 0) continue;
        const rivals = Array.from({ length: rows }, (_, x) => x).filter((x) => x !== r && p.int(0, 2) === 1);
        const detour = g.detourCost(
          cells[r]![c]!,
          rivals.map((x) => cells[x]![c]!),
        );
        const banned = [[r, c], ...rivals.map((x) => [x, c])] as [number, number][];
        t.is(detour, bruteForce(cost, skip, ...banned) - best, `round ${round} cell ${r},${c} rivals ${rivals}`);
        checked++;
      }
  }
  t.true(checked > 200, `${checked} chosen edges checked`);
});

test('a negative cost is refused with the edge named', (t) => {
  const g = new MinCostFlow(3);
  t.throws(() => g.addEdge(1, 2, 1, -1), { message: 'min-cost-flow: edge 1→2 has negative cost -1' });
});
