// Latency regressions per (service, operation) between two groups of entry spans: two
// `service.version`s (resource attribute) or two time windows. Each operation's durations
// are compared with the Mann–Whitney U test (stats/mann-whitney.ts); a change is reported
// only when it is both significant (p < alpha) and large enough to matter
// (|Cliff's δ| ≥ minEffect) — with thousands of spans, tiny shifts are "significant" but not
// regressions. Both sides need `minSamples` spans. Improvements are reported too
// (direction 'faster') because a release note wants them; callers may filter.
import type { Span } from '../model.ts';
import { isEntrySpan } from './error-rates.ts';
import { mannWhitney } from './stats/mann-whitney.ts';
import { median } from './stats/percentiles.ts';

export type RegressionSplit =
  | { by: 'version'; from: string; to: string }
  | { by: 'window'; from: { startUs: number; endUs: number }; to: { startUs: number; endUs: number } };

export interface RegressionOptions {
  alpha?: number; // default 0.01
  minEffect?: number; // |Cliff's delta|, default 0.2 (between "small" 0.147 and "medium" 0.33)
  minSamples?: number; // per side, default 20
}

export interface Regression {
  service: string;
  operation: string;
  direction: 'slower' | 'faster';
  fromCount: number;
  toCount: number;
  fromMedianUs: number;
  toMedianUs: number;
  medianRatio: number; // to / from
  cliffsDelta: number; // > 0: `to` tends slower
  p: number;
}

export interface RegressionReport {
  changes: Regression[];
  /** Operations compared (enough samples on both sides), changed or not. */
  compared: number;
}

export function regressions(
  spans: readonly Span[],
  split: RegressionSplit,
  options: RegressionOptions = {},
): RegressionReport {
  const alpha = options.alpha ?? 0.01;
  const minEffect = options.minEffect ?? 0.2;
  const minSamples = options.minSamples ?? 20;
  if (!(alpha > 0 && alpha < 1)) throw new Error(`regression alpha must be in (0, 1), got ${alpha}`);
  if (!(minEffect >= 0 && minEffect <= 1)) throw new Error(`regression minEffect must be in [0, 1], got ${minEffect}`);
  const side = (s: Span): 'from' | 'to' | null => {
    if (split.by === 'version') {
      const v = s.resource['service.version'];
      return v === split.from ? 'from' : v === split.to ? 'to' : null;
    }
    if (s.startUs >= split.from.startUs && s.startUs < split.from.endUs) return 'from';
    if (s.startUs >= split.to.startUs && s.startUs < split.to.endUs) return 'to';
    return null;
  };
  const groups = new Map<string, { service: string; operation: string; from: number[]; to: number[] }>();
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    const which = side(s);
    if (which === null) continue;
    const key = `${s.service}\u0000${s.name}`;
    let g = groups.get(key);
    if (!g) {
      g = { service: s.service, operation: s.name, from: [], to: [] };
      groups.set(key, g);
    }
    g[which].push(s.endUs - s.startUs);
  }
  const changes: Regression[] = [];
  let compared = 0;
  for (const g of groups.values()) {
    if (g.from.length < minSamples || g.to.length < minSamples) continue;
    compared++;
    const mw = mannWhitney(g.to, g.from);
    if (!(mw.p < alpha) || Math.abs(mw.cliffsDelta) < minEffect) continue;
    const fromMedianUs = median(g.from);
    const toMedianUs = median(g.to);
    changes.push({
      service: g.service,
      operation: g.operation,
      direction: mw.cliffsDelta > 0 ? 'slower' : 'faster',
      fromCount: g.from.length,
      toCount: g.to.length,
      fromMedianUs,
      toMedianUs,
      medianRatio: fromMedianUs > 0 ? toMedianUs / fromMedianUs : Number.POSITIVE_INFINITY,
      cliffsDelta: mw.cliffsDelta,
      p: mw.p,
    });
  }
  changes.sort((a, b) => b.cliffsDelta - a.cliffsDelta);
  return { changes, compared };
}
