// Recovery time per service: how long a service's error rate stayed above a threshold once it
// crossed it. Entry spans are bucketed into fixed windows by start time:
//
//   window      |  1  |  2  |  3  |  4  |  5  |  6  |
//   error rate    2%    3%   41%   55%   38%    4%      threshold 10 %
//                            ^breach          ^recovered → episode 3–5, recovery = 3 windows
//
// Windows with fewer than `minRequests` requests say nothing either way: they neither start
// nor end an episode. An episode still breaching at the end of the data has `endUs: null`.
import type { Span } from '../model.ts';
import { isEntrySpan } from './error-rates.ts';
import { spanFailed } from './span-failed.ts';

export interface RecoveryOptions {
  windowUs?: number; // default 1 s
  threshold?: number; // error rate, default 0.1
  minRequests?: number; // default 5
}

export interface ErrorEpisode {
  startUs: number;
  endUs: number | null;
  durationUs: number | null;
  peakRate: number;
}

export interface ServiceRecovery {
  service: string;
  episodes: ErrorEpisode[];
  meanRecoveryUs: number | null; // over closed episodes
  maxRecoveryUs: number | null;
}

export function recoveryTimes(spans: readonly Span[], options: RecoveryOptions = {}): ServiceRecovery[] {
  const windowUs = options.windowUs ?? 1_000_000;
  const threshold = options.threshold ?? 0.1;
  const minRequests = options.minRequests ?? 5;
  if (!(windowUs > 0)) throw new Error(`recovery windowUs must be > 0, got ${windowUs}`);
  let origin = Number.POSITIVE_INFINITY;
  for (const s of spans) if (isEntrySpan(s)) origin = Math.min(origin, s.startUs);
  const buckets = new Map<string, Map<number, { n: number; e: number }>>();
  for (const s of spans) {
    if (!isEntrySpan(s)) continue;
    const w = Math.floor((s.startUs - origin) / windowUs);
    let svc = buckets.get(s.service);
    if (!svc) {
      svc = new Map();
      buckets.set(s.service, svc);
    }
    const b = svc.get(w) ?? { n: 0, e: 0 };
    b.n++;
    if (spanFailed(s)) b.e++;
    svc.set(w, b);
  }
  const out: ServiceRecovery[] = [];
  for (const [service, windows] of buckets) {
    const indices = [...windows.keys()].sort((a, b) => a - b);
    const episodes: ErrorEpisode[] = [];
    let open: ErrorEpisode | null = null;
    for (const w of indices) {
      const b = windows.get(w)!;
      if (b.n < minRequests) continue;
      const rate = b.e / b.n;
      const startUs = origin + w * windowUs;
      if (rate > threshold) {
        if (open === null) {
          open = { startUs, endUs: null, durationUs: null, peakRate: rate };
          episodes.push(open);
        } else open.peakRate = Math.max(open.peakRate, rate);
      } else if (open !== null) {
        open.endUs = startUs;
        open.durationUs = startUs - open.startUs;
        open = null;
      }
    }
    const closed = episodes.flatMap((e) => (e.durationUs === null ? [] : [e.durationUs]));
    out.push({
      service,
      episodes,
      meanRecoveryUs: closed.length ? closed.reduce((a, b) => a + b, 0) / closed.length : null,
      maxRecoveryUs: closed.length ? Math.max(...closed) : null,
    });
  }
  return out.sort((a, b) => b.episodes.length - a.episodes.length || a.service.localeCompare(b.service));
}
