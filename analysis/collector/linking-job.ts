// The collector's offline linking (issue 9, analysis/linking/README.md): every `intervalMs` it
// takes the next settled window of calls and decides the ones the sidecars could not be sure of.
//
//   ──────────[ lookback ][ window: calls decided this run ]────[ settle ]── now
//              └ requests that may have caused them, loaded too
//
// A window is decided `settleMs` after it ends, so the spans of its requests and calls (exported
// every second by the sidecars, later for long requests) have arrived. Each call is decided in
// exactly one run. The model is learned from what is loaded plus a bounded buffer of recent
// spans of linked workloads, so quiet stretches keep teaching it. Changes are written back with
// the store's relinkSpans (a store that cannot — over Jaeger — gets no job).
import { WORKLOAD } from '../linking/attributes.ts';
import { linkWindow } from '../linking/link-window.ts';
import { relink } from '../linking/relink.ts';
import type { Span } from '../model.ts';
import type { SpanRelink, TraceStore } from '../store/trace-store.ts';

export interface LinkingJobOptions {
  /** How often a window is decided (default 5 s). */
  intervalMs?: number;
  /** How long after a window ends it is decided (default 10 s). */
  settleMs?: number;
  /** How far before a call its request may have started (default 60 s). */
  lookbackMs?: number;
  /** Least confidence for a link (default 0.8, analysis/linking/assign-chains.ts). */
  threshold?: number;
  /** Spans of linked workloads kept between runs to train the model (default 50,000). */
  trainingSpans?: number;
  /** Most spans loaded per run; beyond it whole traces are left out and counted (default 500,000). */
  maxSpans?: number;
}

export interface LinkingJobStats {
  runs: number;
  /** Calls linked, and online guesses undone, so far. */
  linked: number;
  detached: number;
  /** Calls left provisional. */
  unlinked: number;
  spansRewritten: number;
  truncatedTraces: number;
  errors: number;
  /** Duration of the last run (ms). */
  lastRunMs: number;
}

export interface LinkingJob {
  /** Decides the next settled window now; resolves with what it changed. */
  runOnce(nowUs?: number): Promise<void>;
  stats(): LinkingJobStats;
  /** No more runs; resolves when the one in progress (if any) is done. */
  stop(): Promise<void>;
}

export function startLinkingJob(
  store: TraceStore,
  options: LinkingJobOptions,
  onError: (message: string) => void,
): LinkingJob {
  const intervalMs = options.intervalMs ?? 5000;
  const settleUs = (options.settleMs ?? 10_000) * 1000;
  const lookbackUs = (options.lookbackMs ?? 60_000) * 1000;
  const trainingCap = options.trainingSpans ?? 50_000;
  const maxSpans = options.maxSpans ?? 500_000;
  const stats: LinkingJobStats = {
    runs: 0,
    linked: 0,
    detached: 0,
    unlinked: 0,
    spansRewritten: 0,
    truncatedTraces: 0,
    errors: 0,
    lastRunMs: 0,
  };
  let training: Span[] = [];
  let decidedUntilUs: number | null = null;
  let running: Promise<void> | null = null;

  const run = async (nowUs: number) => {
    const started = performance.now();
    const endUs = nowUs - settleUs;
    const fromUs = decidedUntilUs ?? endUs - lookbackUs;
    if (endUs <= fromUs) return;
    const loaded = await store.spansInWindow({ startUs: fromUs - lookbackUs, endUs, limitSpans: maxSpans });
    stats.truncatedTraces += loaded.truncatedTraces;
    const linkedWorkload = loaded.spans.filter((s) => typeof s.attributes[WORKLOAD] === 'string');
    const inWindow = (s: Span) => s.startUs >= fromUs && s.startUs < endUs;
    const result = linkWindow(linkedWorkload, {
      history: training,
      ...(options.threshold !== undefined && { threshold: options.threshold }),
    });
    // Only this window's calls are decided here; earlier ones were, later ones will be.
    const byKey = new Map(linkedWorkload.map((s) => [`${s.traceId}:${s.spanId}`, s]));
    const decides = (traceId: string, spanId: string) => {
      const s = byKey.get(`${traceId}:${spanId}`);
      return s !== undefined && inWindow(s);
    };
    const links = result.links.filter((l) => decides(l.outboundTraceId, l.outboundSpanId));
    const detached = result.detached.filter((d) => decides(d.traceId, d.spanId));
    stats.unlinked += result.unlinked.filter((u) => decides(u.outboundTraceId, u.outboundSpanId)).length;
    if (links.length > 0 || detached.length > 0) {
      // Re-apply just this window's decisions to every loaded span (subtrees live in other traces).
      const after = relink(loaded.spans, links, detached).value;
      const changes: SpanRelink[] = [];
      for (let i = 0; i < after.length; i++) {
        const a = after[i]!;
        const b = loaded.spans[i]!;
        if (a.traceId !== b.traceId || a.parentSpanId !== b.parentSpanId || differs(a.attributes, b.attributes)) {
          changes.push({
            traceId: b.traceId,
            spanId: b.spanId,
            newTraceId: a.traceId,
            parentSpanId: a.parentSpanId,
            attributes: a.attributes,
          });
        }
      }
      if (store.relinkSpans) stats.spansRewritten += await store.relinkSpans(changes);
      stats.linked += links.length;
      stats.detached += detached.length;
    }
    // This window's spans train later runs (each span enters once: windows do not overlap).
    training = [...training, ...linkedWorkload.filter(inWindow)];
    if (training.length > trainingCap) training = training.slice(training.length - trainingCap);
    decidedUntilUs = endUs;
    stats.runs++;
    stats.lastRunMs = performance.now() - started;
  };

  const tick = (nowUs: number) => {
    if (running) return running;
    running = run(nowUs)
      .catch((err) => {
        stats.errors++;
        onError(`linking failed: ${(err as Error).message}`);
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(Date.now() * 1000), intervalMs);
  timer.unref();
  return {
    runOnce: (nowUs = Date.now() * 1000) => tick(nowUs),
    stats: () => ({ ...stats }),
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

function differs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return true;
  return ka.some((k) => a[k] !== b[k]);
}
