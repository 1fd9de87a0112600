// Capacity insight per service: throughput against latency, and the knee where latency
// starts to climb. Entry spans are bucketed into windows (default 1 s); each window gives a
// throughput (sampling-adjusted requests/s) and its spans' latencies. Windows are ordered by
// throughput and pooled into `bins` bins of equal window count; each bin is a point
// (mean throughput, p50/p95 latency of all its spans).
//
// Knee (the "Kneedle" idea, Satopää et al. 2011): scale both axes to [0, 1]; for a curve that
// stays flat and then rises, the knee is the point farthest below the straight line from the
// first to the last point:
//
//   p95 │                         •
//       │                      •
//       │                   •
//       │ •  •  •  •  • •         ← flat until the knee, then rising
//       └──────────────^────────── throughput
//                     knee
//
// No knee is reported when latency does not rise by at least `minRise` (default 50 %) from
// the first to the last point — a flat curve has no knee, only noise.
import type { Span } from '../model.ts';
import { isEntrySpan } from './error-rates.ts';
import { samplingWeight } from './sampling-weight.ts';
import { percentileOfSorted } from './stats/percentiles.ts';

export interface CapacityOptions {
  windowUs?: number;
  bins?: number;
  minRise?: number;
  minRequestsPerWindow?: number;
}

export interface CapacityPoint {
  throughputPerS: number;
  p50Us: number;
  p95Us: number;
  windows: number;
}

export interface ServiceCapacity {
  service: string;
  points: CapacityPoint[];
  knee: CapacityPoint | null;
}

export function capacity(spans: readonly Span[], options: CapacityOptions = {}): ServiceCapacity[] {
  const windowUs = options.windowUs ?? 1_000_000;
  const binsWanted = options.bins ?? 10;
  const minRise = options.minRise ?? 0.5;
  const minReq = options.minRequestsPerWindow ?? 3;
  const perService = new Map<string, Map<number, { weight: number; durations: number[] }>>();
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    const w = Math.floor(s.startUs / windowUs);
    let m = perService.get(s.service);
    if (!m) {
      m = new Map();
      perService.set(s.service, m);
    }
    const b = m.get(w) ?? { weight: 0, durations: [] };
    b.weight += samplingWeight(s).weight;
    b.durations.push(s.endUs - s.startUs);
    m.set(w, b);
  }
  const out: ServiceCapacity[] = [];
  for (const [service, windows] of perService) {
    // The first and last windows are usually partial: their throughput would read low.
    const keys = [...windows.keys()].sort((a, b) => a - b).slice(1, -1);
    const ws = keys.map((k) => windows.get(k)!).filter((w) => w.durations.length >= minReq);
    ws.sort((a, b) => a.weight - b.weight);
    const bins = Math.min(binsWanted, ws.length);
    const points: CapacityPoint[] = [];
    for (let i = 0; i < bins; i++) {
      const part = ws.slice(Math.floor((i * ws.length) / bins), Math.floor(((i + 1) * ws.length) / bins));
      if (part.length === 0) continue;
      const durations = part.flatMap((w) => w.durations).sort((a, b) => a - b);
      points.push({
        throughputPerS: part.reduce((a, w) => a + w.weight, 0) / part.length / (windowUs / 1e6),
        p50Us: percentileOfSorted(durations, 50),
        p95Us: percentileOfSorted(durations, 95),
        windows: part.length,
      });
    }
    out.push({ service, points, knee: kneeOf(points, minRise) });
  }
  return out.sort((a, b) => a.service.localeCompare(b.service));
}

function kneeOf(points: CapacityPoint[], minRise: number): CapacityPoint | null {
  if (points.length < 3) return null;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const dx = last.throughputPerS - first.throughputPerS;
  const dy = last.p95Us - first.p95Us;
  if (dx <= 0 || dy <= 0 || last.p95Us < first.p95Us * (1 + minRise)) return null;
  let best: CapacityPoint | null = null;
  let bestGap = 0;
  for (const p of points) {
    const gap = (p.throughputPerS - first.throughputPerS) / dx - (p.p95Us - first.p95Us) / dy;
    if (gap > bestGap) {
      bestGap = gap;
      best = p;
    }
  }
  return best;
}
