// The Jaeger query API (HTTP JSON, the endpoints Jaeger UI and Grafana's Jaeger data source
// call) over a TraceReader:
//   GET /api/services                              → data: [service]
//   GET /api/services/:service/operations          → data: [operation name]
//   GET /api/operations?service=&spanKind=         → data: [{ name, spanKind }]
//   GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&limit=&lookback=
//   GET /api/traces?traceID=a&traceID=b            → those traces
//   GET /api/traces/:traceID                       → data: [trace], 404 when unknown
//   GET /api/dependencies?endTs=&lookback=         → data: [{ parent, child, callCount }] (ms)
import { dependencyMap } from '../../analysis/analyses/dependency-map.ts';
import type { SpanKind } from '../../analysis/model.ts';
import type { TraceReader } from '../../analysis/store/trace-store.ts';
import { toJaegerTrace } from '../jaeger/to-jaeger.ts';
import {
  durationParam,
  integerParam,
  limitParam,
  QueryError,
  tagsParam,
  timeRangeParams,
  traceIdParam,
} from '../jaeger/query-params.ts';
import type { Route } from './router.ts';
import { sendData, sendError } from './responses.ts';

const SPAN_KINDS: ReadonlySet<string> = new Set([
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
  'unspecified',
]);

/** Most spans read for /api/dependencies (whole traces; the rest is reported as truncated). */
export const DEPENDENCY_SPAN_LIMIT = 200_000;
const DAY_MS = 86_400_000;

export function jaegerRoutes(reader: TraceReader, nowUs: () => number = () => Date.now() * 1000): Route[] {
  return [
    {
      pattern: /^\/api\/services$/,
      handle: async (_m, _q, res) => sendData(res, await reader.services()),
    },
    {
      pattern: /^\/api\/services\/([^/]+)\/operations$/,
      handle: async (m, _q, res) => {
        const ops = await reader.operations(decodeURIComponent(m[1]!));
        sendData(res, [...new Set(ops.map((o) => o.name))]);
      },
    },
    {
      pattern: /^\/api\/operations$/,
      handle: async (_m, q, res) => {
        const service = q.get('service');
        if (service === null || service === '') throw new QueryError('service', 'service: required');
        const kind = q.get('spanKind');
        if (kind !== null && kind !== '' && !SPAN_KINDS.has(kind)) {
          throw new QueryError('spanKind', `spanKind: "${kind}" is not one of ${[...SPAN_KINDS].join(', ')}`);
        }
        const ops = (await reader.operations(service)).filter((o) => !kind || o.kind === (kind as SpanKind));
        sendData(
          res,
          ops.map((o) => ({ name: o.name, spanKind: o.kind === 'unspecified' ? '' : o.kind })),
        );
      },
    },
    {
      pattern: /^\/api\/traces\/([^/]+)$/,
      handle: async (m, _q, res) => {
        const id = traceIdParam(decodeURIComponent(m[1]!));
        const spans = await reader.getTrace(id);
        if (spans.length === 0) {
          sendError(res, 404, { msg: `trace not found: ${id}`, traceID: id });
          return;
        }
        sendData(res, [toJaegerTrace(spans)]);
      },
    },
    {
      pattern: /^\/api\/traces$/,
      handle: async (_m, q, res) => {
        const ids = q.getAll('traceID');
        if (ids.length > 0) {
          const traces = [];
          for (const raw of ids.slice(0, 100)) {
            const spans = await reader.getTrace(traceIdParam(raw));
            if (spans.length > 0) traces.push(toJaegerTrace(spans));
          }
          sendData(res, traces);
          return;
        }
        const limit = limitParam(q);
        const range = timeRangeParams(q, nowUs());
        const minDurationUs = durationParam(q, 'minDuration');
        const maxDurationUs = durationParam(q, 'maxDuration');
        if (minDurationUs !== undefined && maxDurationUs !== undefined && minDurationUs > maxDurationUs) {
          throw new QueryError(
            'minDuration',
            `minDuration (${minDurationUs} µs) is above maxDuration (${maxDurationUs} µs)`,
          );
        }
        const service = q.get('service') || undefined;
        const operation = q.get('operation') || undefined;
        if (operation !== undefined && service === undefined) {
          throw new QueryError('operation', 'operation: needs service as well');
        }
        const found = await reader.findTraces({
          service,
          operation,
          tags: tagsParam(q),
          minDurationUs,
          maxDurationUs,
          startUs: range.startUs,
          endUs: range.endUs === undefined ? undefined : range.endUs + 1, // Jaeger's end is inclusive
          limit,
        });
        sendData(
          res,
          found.map((t) => toJaegerTrace(t.spans)),
        );
      },
    },
    {
      pattern: /^\/api\/dependencies$/,
      handle: async (_m, q, res) => {
        const endTs = integerParam(q, 'endTs', 'a time in ms since the epoch') ?? Math.floor(nowUs() / 1000);
        const lookback = integerParam(q, 'lookback', 'a duration in ms') ?? DAY_MS;
        if (lookback === 0) throw new QueryError('lookback', 'lookback: must be above 0 ms');
        const window = await reader.spansInWindow({
          startUs: Math.max(0, endTs - lookback) * 1000,
          endUs: endTs * 1000,
          limitSpans: DEPENDENCY_SPAN_LIMIT,
        });
        sendData(
          res,
          dependencyMap(window.spans).map((e) => ({ parent: e.caller, child: e.callee, callCount: e.calls })),
        );
      },
    },
  ];
}
