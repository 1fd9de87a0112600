// Runs to requests (analysis/linking/match-runs.ts) against brute force on small seeded
// problems — the likeliest pairing and the confidence of each chosen pair — and the order
// evidence on top of it (order-evidence.ts).
import test from 'ava';
import { Prng } from '../../analysis/generate/prng.ts';
import { matchRuns, type RunCandidate } from '../../analysis/linking/match-runs.ts';
import { servedInTurn, type Turn } from '../../analysis/linking/order-evidence.ts';

/** Best log-likelihood over all pairings: each run to a distinct request or dropped. */
function bruteForce(
  runs: number,
  requests: number,
  cands: readonly RunCandidate[],
  llAlone: readonly number[],
  orphan: number,
  without?: RunCandidate,
): number {
  let best = Number.NEGATIVE_INFINITY;
  const taken = new Array<boolean>(requests).fill(false);
  const go = (j: number, acc: number) => {
    if (j === runs) {
      let alone = 0;
      for (let i = 0; i < requests; i++) if (!taken[i]) alone += llAlone[i]!;
      best = Math.max(best, acc + alone);
      return;
    }
    go(j + 1, acc - orphan);
    for (const c of cands) {
      if (c.run !== j || taken[c.request] || c === without) continue;
      taken[c.request] = true;
      go(j + 1, acc + c.ll);
      taken[c.request] = false;
    }
  };
  go(0, 0);
  return best;
}

test('the likeliest pairing and each pair’s confidence match brute force on 300 random problems', (t) => {
  const p = new Prng(5);
  let pairs = 0;
  for (let round = 0; round < 300; round++) {
    const runs = p.int(1, 5);
    const requests = p.int(1, 5);
    const candidates: RunCandidate[] = [];
    for (let j = 0; j < runs; j++)
      for (let i = 0; i < requests; i++)
        if (p.int(0, 3) > 0) candidates.push({ run: j, request: i, ll: -p.int(0, 30) });
    const llAlone = Array.from({ length: requests }, () => -p.int(0, 30));
    const orphanCost = 25;
    const m = matchRuns({ runs, requests, candidates, llAlone, orphanCost });
    const best = bruteForce(runs, requests, candidates, llAlone, orphanCost);
    let got = 0;
    const taken = new Set<number>();
    for (let j = 0; j < runs; j++) {
      const i = m.requestOf[j]!;
      if (i < 0) {
        got -= orphanCost;
        continue;
      }
      t.false(taken.has(i), `round ${round}: request ${i} taken twice`);
      taken.add(i);
      got += candidates.find((c) => c.run === j && c.request === i)!.ll;
    }
    for (let i = 0; i < requests; i++) if (!taken.has(i)) got += llAlone[i]!;
    t.is(got, best, `round ${round}`);
    for (let j = 0; j < runs; j++) {
      const i = m.requestOf[j]!;
      if (i < 0) {
        t.is(m.confidence(j), 0);
        continue;
      }
      const chosen = candidates.find((c) => c.run === j && c.request === i)!;
      const delta = best - bruteForce(runs, requests, candidates, llAlone, orphanCost, chosen);
      t.true(Math.abs(m.confidence(j) - 1 / (1 + Math.exp(-delta))) < 1e-9, `round ${round} run ${j}`);
      pairs++;
    }
  }
  t.true(pairs > 300, `${pairs} pairs checked`);
});

test('a long window is solved in chunks: 1,000 runs each plainly their own request’s', (t) => {
  // Run j fits request j best by far, and its neighbours a little: pairs across every chunk seam.
  const n = 1_000;
  const candidates: RunCandidate[] = [];
  for (let j = 0; j < n; j++)
    for (const i of [j - 1, j, j + 1])
      if (i >= 0 && i < n) candidates.push({ run: j, request: i, ll: i === j ? -1 : -9 });
  const m = matchRuns({ runs: n, requests: n, candidates, llAlone: new Array(n).fill(-40), orphanCost: 40 });
  t.deepEqual(
    [...m.requestOf],
    Array.from({ length: n }, (_, j) => j),
  );
  t.true(m.confidence(500) > 0.99);
});

const turn = (a: number, e: number, s: number | null, f: number | null): Turn => ({
  request: { startUs: a, endUs: e },
  run: s === null || f === null ? null : { startUs: s, endUs: f },
});

test('order evidence: requests whose run keeps their rank at both ends are confirmed', (t) => {
  const inOrder = [turn(0, 1000, 100, 900), turn(200, 1200, 300, 1100), turn(400, 1400, 500, 1300)];
  t.deepEqual([...servedInTurn(inOrder)].sort(), [0, 1, 2]);
  // The first two swapped at the start (each run starts in the other's turn): neither confirmed.
  const swapped = [turn(0, 1000, 300, 900), turn(200, 1200, 100, 1100), turn(400, 1400, 500, 1300)];
  t.deepEqual([...servedInTurn(swapped)], [2]);
  // Swapped at the end only: the same.
  const late = [turn(0, 1000, 100, 950), turn(200, 1200, 300, 900), turn(400, 1400, 500, 1300)];
  t.deepEqual([...servedInTurn(late)], [2]);
});

test('order evidence: a request next to an unmatched one is never confirmed', (t) => {
  // Request 1 has no run: ranks among the rest still agree, but 0 and 2 might have shifted by one.
  const turns = [
    turn(0, 1000, 100, 900),
    turn(200, 1200, null, null),
    turn(400, 1400, 500, 1300),
    turn(600, 1600, 700, 1500),
    turn(800, 1800, 900, 1700),
  ];
  t.deepEqual([...servedInTurn(turns)].sort(), [3, 4]);
});
