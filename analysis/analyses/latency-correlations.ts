// Which numeric span attributes move with latency (payload size, retries, queue depth):
// Spearman's rank correlation (stats/spearman.ts) between each numeric attribute and the
// span's duration, per service and operation of entry spans. Rank correlation because
// latency is skewed and the relation need only be monotonic, not linear. Attributes seen on
// fewer than `minSamples` spans are skipped; results with |rho| < minAbsRho are dropped.
import type { Span } from '../model.ts';
import { isEntrySpan } from './error-rates.ts';
import { spearman } from './stats/spearman.ts';

export interface LatencyCorrelation {
  service: string;
  operation: string;
  attribute: string;
  rho: number;
  samples: number;
}

export function latencyCorrelations(
  spans: readonly Span[],
  options: { minSamples?: number; minAbsRho?: number } = {},
): LatencyCorrelation[] {
  const minSamples = options.minSamples ?? 30;
  const minAbsRho = options.minAbsRho ?? 0.3;
  const groups = new Map<string, { service: string; operation: string; attribute: string; x: number[]; y: number[] }>();
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    for (const [attribute, v] of Object.entries(s.attributes)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const key = `${s.service}\u0000${s.name}\u0000${attribute}`;
      let g = groups.get(key);
      if (!g) {
        g = { service: s.service, operation: s.name, attribute, x: [], y: [] };
        groups.set(key, g);
      }
      g.x.push(v);
      g.y.push(s.endUs - s.startUs);
    }
  }
  const out: LatencyCorrelation[] = [];
  for (const g of groups.values()) {
    if (g.x.length < minSamples) continue;
    const rho = spearman(g.x, g.y);
    if (Number.isNaN(rho) || Math.abs(rho) < minAbsRho) continue;
    out.push({ service: g.service, operation: g.operation, attribute: g.attribute, rho, samples: g.x.length });
  }
  return out.sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho));
}
