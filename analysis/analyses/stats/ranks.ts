// Mid-ranks (1-based, ties share the mean of the ranks they span) — the ranking used by both
// Mann–Whitney U and Spearman's rho. Also returns the tie groups' sizes for tie corrections.

export interface Ranked {
  ranks: Float64Array; // ranks[i] belongs to values[i]
  tieSizes: number[]; // size of every group of equal values with more than one member
}

export function midRanks(values: readonly number[]): Ranked {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  const tieSizes: number[] = [];
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    const rank = (i + 1 + j) / 2; // mean of ranks i+1 … j
    for (let k = i; k < j; k++) ranks[order[k]!] = rank;
    if (j - i > 1) tieSizes.push(j - i);
    i = j;
  }
  return { ranks, tieSizes };
}
