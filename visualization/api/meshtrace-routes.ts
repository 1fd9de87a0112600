// The analyses Jaeger cannot show, over the same reader:
//   GET /api/meshtrace/status                       store counts (+ collector counters): live refresh
//   GET /api/meshtrace/critical-path/:traceID       critical path + error origin of one trace
//   GET /api/meshtrace/bottlenecks                  critical-path share per operation
//   GET /api/meshtrace/errors                       error origins and propagation paths
//   GET /api/meshtrace/regressions?fromVersion=&toVersion=
//   GET /api/meshtrace/dependency-map               service map: nodes + edges with errors/latency
//   GET /api/meshtrace/latency                      total and self time per operation
//   GET /api/meshtrace/sampling-stats               kept by reason, estimated dropped
// Window endpoints take start/end (µs) or lookback like /api/traces; without them the whole
// store is read, at most `limitSpans` spans (whole traces; the rest counted in truncatedTraces).
import { bottlenecks } from '../../analysis/analyses/bottlenecks.ts';
import { criticalPath } from '../../analysis/analyses/critical-path.ts';
import { errorOrigin, errorOrigins } from '../../analysis/analyses/error-origin.ts';
import { latencyBreakdown } from '../../analysis/analyses/latency-breakdown.ts';
import type { Span } from '../../analysis/model.ts';
import type { TraceReader } from '../../analysis/store/trace-store.ts';
import { integerParam, QueryError, timeRangeParams, traceIdParam } from '../jaeger/query-params.ts';
import { sendData, sendError } from './responses.ts';
import type { Route } from './router.ts';
import { samplingStats } from './sampling-stats.ts';
import { serviceMap } from './service-map.ts';
import { versionRegressions } from './version-regressions.ts';

export const DEFAULT_LIMIT_SPANS = 200_000;
export const MAX_LIMIT_SPANS = 1_000_000;
const MAX_ERROR_TRACES = 100;

export interface StatusSource {
  /** Counters shown with /status and /sampling-stats (e.g. the collector's drops). */
  collectorStats?: () => unknown;
}

interface Window {
  startUs: number;
  endUs: number;
  spans: Span[];
  truncatedTraces: number;
}

export function meshtraceRoutes(
  reader: TraceReader & { stats?: () => Promise<{ spans: number; traces: number; bytes: number }> },
  source: StatusSource = {},
  nowUs: () => number = () => Date.now() * 1000,
): Route[] {
  // One cached window read per query string, invalidated when the store's span count changes,
  // so a UI polling several panels does not rescan the store for each.
  const cache = new Map<string, { version: string; window: Window }>();
  const version = async () => {
    if (!reader.stats) return String(Date.now() >> 11); // ~2 s buckets without counts
    const s = await reader.stats();
    return `${s.spans}/${s.bytes}`;
  };
  const windowOf = async (q: URLSearchParams): Promise<Window> => {
    const range = timeRangeParams(q, nowUs());
    const limitSpans = integerParam(q, 'limitSpans', 'a span count') ?? DEFAULT_LIMIT_SPANS;
    if (limitSpans < 1 || limitSpans > MAX_LIMIT_SPANS) {
      throw new QueryError('limitSpans', `limitSpans: ${limitSpans} is out of range (1 … ${MAX_LIMIT_SPANS})`);
    }
    const startUs = range.startUs ?? 0;
    const endUs = range.endUs === undefined ? Number.MAX_SAFE_INTEGER : range.endUs + 1;
    const key = `${startUs}/${endUs}/${limitSpans}`;
    const v = await version();
    const hit = cache.get(key);
    if (hit && hit.version === v) return hit.window;
    const r = await reader.spansInWindow({ startUs, endUs, limitSpans });
    const window = { startUs, endUs, spans: r.spans, truncatedTraces: r.truncatedTraces };
    if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
    cache.set(key, { version: v, window });
    return window;
  };
  const meta = (w: Window) => ({
    window: { startUs: w.startUs, endUs: w.endUs },
    spans: w.spans.length,
    truncatedTraces: w.truncatedTraces,
  });
  const windowRoute = (name: string, compute: (w: Window, q: URLSearchParams) => unknown): Route => ({
    pattern: new RegExp(`^/api/meshtrace/${name}$`),
    handle: async (_m, q, res) => {
      const w = await windowOf(q);
      sendData(res, { ...meta(w), ...(compute(w, q) as object) });
    },
  });

  return [
    {
      pattern: /^\/api\/meshtrace\/status$/,
      handle: async (_m, _q, res) => {
        const store = reader.stats ? await reader.stats() : null;
        sendData(res, { store, collector: source.collectorStats?.() ?? null, nowUs: nowUs() });
      },
    },
    {
      pattern: /^\/api\/meshtrace\/critical-path\/([^/]+)$/,
      handle: async (m, _q, res) => {
        const id = traceIdParam(decodeURIComponent(m[1]!));
        const spans = await reader.getTrace(id);
        if (spans.length === 0) {
          sendError(res, 404, { msg: `trace not found: ${id}`, traceID: id });
          return;
        }
        const cp = criticalPath(spans);
        if (!cp.ok) {
          sendError(res, 422, { msg: `critical path of ${id} cannot be computed: ${cp.reason}`, traceID: id });
          return;
        }
        const eo = errorOrigin(spans);
        sendData(res, { criticalPath: cp.value, errorOrigin: eo.ok ? eo.value : null });
      },
    },
    windowRoute('bottlenecks', (w) => {
      const r = bottlenecks(w.spans);
      return { bottlenecks: r.value, traceErrors: r.errors.slice(0, 20) };
    }),
    windowRoute('errors', (w) => {
      const r = errorOrigins(w.spans);
      const by = new Map<string, { service: string; operation: string; traces: number; message: string }>();
      for (const o of r.value) {
        if (!o.origin) continue;
        const key = `${o.origin.service}\u0000${o.origin.name}`;
        const e = by.get(key) ?? { service: o.origin.service, operation: o.origin.name, traces: 0, message: o.message };
        e.traces++;
        by.set(key, e);
      }
      return {
        failedTraces: r.value.length,
        byOrigin: [...by.values()].sort((a, b) => b.traces - a.traces),
        // newest last in the window order; show the latest ones
        traces: r.value.slice(-MAX_ERROR_TRACES).reverse(),
        traceErrors: r.errors.slice(0, 20),
      };
    }),
    windowRoute('regressions', (w, q) => {
      const from = q.get('fromVersion');
      const to = q.get('toVersion');
      if ((from === null) !== (to === null)) {
        throw new QueryError(from === null ? 'fromVersion' : 'toVersion', 'fromVersion and toVersion go together');
      }
      return versionRegressions(
        w.spans,
        from !== null && to !== null ? { fromVersion: from, toVersion: to } : undefined,
      );
    }),
    windowRoute('dependency-map', (w) => serviceMap(w.spans)),
    windowRoute('latency', (w) => {
      const r = latencyBreakdown(w.spans);
      return { operations: r.value, traceErrors: r.errors.slice(0, 20) };
    }),
    windowRoute('sampling-stats', (w) => ({
      sampling: samplingStats(w.spans),
      collector: source.collectorStats?.() ?? null,
    })),
  ];
}
