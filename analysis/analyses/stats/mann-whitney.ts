// Mann–Whitney U test (Wilcoxon rank-sum) with the normal approximation, tie correction and
// continuity correction:
//   U_a = R_a − n_a(n_a+1)/2, μ = n_a·n_b/2,
//   σ² = n_a·n_b/12 · ((n+1) − Σ(t³−t)/(n(n−1)))   (t = size of each tie group, n = n_a+n_b)
//   z = (U_a − μ ∓ 0.5)/σ, p two-sided.
// The approximation is good for n_a, n_b ≥ ~8; callers require a minimum sample per side.
// Effect size: Cliff's delta δ = 2·U_a/(n_a·n_b) − 1 ∈ [−1, 1] — the probability that a value
// of A exceeds one of B minus the reverse (ties count half). Positive δ means A tends larger.
import { twoSidedP } from './normal.ts';
import { midRanks } from './ranks.ts';

export interface MannWhitneyResult {
  u: number; // U of sample a
  z: number;
  p: number; // two-sided
  cliffsDelta: number;
}

export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const na = a.length;
  const nb = b.length;
  if (na === 0 || nb === 0) return { u: Number.NaN, z: Number.NaN, p: 1, cliffsDelta: 0 };
  const { ranks, tieSizes } = midRanks([...a, ...b]);
  let ra = 0;
  for (let i = 0; i < na; i++) ra += ranks[i]!;
  const u = ra - (na * (na + 1)) / 2;
  const n = na + nb;
  const mu = (na * nb) / 2;
  let tieSum = 0;
  for (const t of tieSizes) tieSum += t * t * t - t;
  const variance = ((na * nb) / 12) * (n + 1 - tieSum / (n * (n - 1)));
  const cliffsDelta = (2 * u) / (na * nb) - 1;
  if (variance <= 0) return { u, z: 0, p: 1, cliffsDelta }; // every value equal
  const diff = u - mu;
  const corrected = diff === 0 ? 0 : diff - Math.sign(diff) * 0.5;
  const z = corrected / Math.sqrt(variance);
  return { u, z, p: twoSidedP(z), cliffsDelta };
}
