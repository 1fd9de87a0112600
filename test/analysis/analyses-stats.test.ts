import test from 'ava';
import { mannWhitney } from '../../analysis/analyses/stats/mann-whitney.ts';
import { erfc, twoSidedP } from '../../analysis/analyses/stats/normal.ts';
import { percentileOfSorted, summary } from '../../analysis/analyses/stats/percentiles.ts';
import { midRanks } from '../../analysis/analyses/stats/ranks.ts';
import { spearman } from '../../analysis/analyses/stats/spearman.ts';

const close = (actual: number, expected: number, tol: number) => Math.abs(actual - expected) <= tol;

test('erfc matches tabulated values to 1e-7', (t) => {
  // Abramowitz & Stegun table 7.1
  for (const [x, v] of [
    [0, 1],
    [0.5, 0.4795001222],
    [1, 0.1572992071],
    [2, 0.004677735],
    [-1, 1.8427007929],
  ] as const) {
    t.true(close(erfc(x), v, 1e-7), `erfc(${x}) = ${erfc(x)}, expected ${v}`);
  }
  t.true(close(twoSidedP(1.959964), 0.05, 1e-6));
});

test('mid-ranks share ties and list the tie groups', (t) => {
  const r = midRanks([10, 20, 20, 30, 20]);
  t.deepEqual([...r.ranks], [1, 3, 3, 5, 3]);
  t.deepEqual(r.tieSizes, [3]);
});

test('Mann–Whitney U, no ties: complete separation of 5 vs 5', (t) => {
  const r = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  t.is(r.u, 0);
  t.is(r.cliffsDelta, -1);
  // z = (0 − 12.5 + 0.5)/√(25·11/12) = −2.5067 → p = 2Φ(−2.5067) ≈ 0.01219
  t.true(close(r.z, -2.50672, 1e-4), `z = ${r.z}`);
  t.true(close(r.p, 0.01219, 2e-4), `p = ${r.p}`);
});

test('Mann–Whitney U with ties uses the tie-corrected variance', (t) => {
  // ranks: 1→1, 2,2,2→3, 3,3→5.5, 4→7, 5→8; R_a = 12.5, U_a = 2.5
  // σ² = 16/12·(9 − (24+6)/56) = 11.2857; z = (2.5 − 8 + 0.5)/3.3594 = −1.4884 → p ≈ 0.1367
  const r = mannWhitney([1, 2, 2, 3], [2, 3, 4, 5]);
  t.is(r.u, 2.5);
  t.is(r.cliffsDelta, -0.6875);
  t.true(close(r.z, -1.48835, 1e-4), `z = ${r.z}`);
  t.true(close(r.p, 0.13666, 5e-4), `p = ${r.p}`);
});

test('Mann–Whitney on identical constant samples reports no difference', (t) => {
  const r = mannWhitney([3, 3, 3], [3, 3, 3, 3]);
  t.is(r.p, 1);
  t.is(r.cliffsDelta, 0);
});

test('Spearman rho without and with ties', (t) => {
  t.true(close(spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]), 1 - (6 * 6) / (6 * 35), 1e-12));
  t.true(close(spearman([1, 2, 2, 3, 4], [5, 6, 7, 7, 9]), 8.75 / 9.5, 1e-12));
  t.true(close(spearman([1, 2, 3], [30, 20, 10]), -1, 1e-12));
  t.true(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])), 'constant side has no correlation');
});

test('percentiles interpolate between closest ranks', (t) => {
  t.is(percentileOfSorted([1, 2, 3, 4], 50), 2.5);
  t.true(close(percentileOfSorted([1, 2, 3, 4], 95), 3.85, 1e-12));
  t.true(Number.isNaN(percentileOfSorted([], 50)));
  const s = summary([4, 1, 3, 2]);
  t.deepEqual([s.count, s.min, s.max, s.mean, s.p50], [4, 1, 4, 2.5, 2.5]);
});
