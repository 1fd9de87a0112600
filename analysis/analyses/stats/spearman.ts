// Spearman's rank correlation: Pearson's r of the mid-ranks (exact with ties, unlike the
// 1 − 6Σd²/(n(n²−1)) shortcut which assumes none). NaN when either side is constant.
import { midRanks } from './ranks.ts';

export function spearman(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return Number.NaN;
  const rx = midRanks(x.slice(0, n)).ranks;
  const ry = midRanks(y.slice(0, n)).ranks;
  const mean = (n + 1) / 2; // mid-ranks always average to (n+1)/2
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - mean;
    const dy = ry[i]! - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}
