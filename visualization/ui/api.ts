// Fetching from the server's own API (same origin; nothing else is ever contacted).
import type { Bottleneck } from '../../analysis/analyses/bottlenecks.ts';
import type { CriticalPath } from '../../analysis/analyses/critical-path.ts';
import type { ErrorOrigin } from '../../analysis/analyses/error-origin.ts';
import type { OperationLatency } from '../../analysis/analyses/latency-breakdown.ts';
import type { SamplingStats } from '../api/sampling-stats.ts';
import type { ServiceMap } from '../api/service-map.ts';
import type { VersionRegressions } from '../api/version-regressions.ts';
import type { JaegerTrace } from '../jaeger/to-jaeger.ts';

export type { Bottleneck, CriticalPath, ErrorOrigin, JaegerTrace, OperationLatency, SamplingStats, ServiceMap };

export class ApiError extends Error {}

export async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json()) as { data: T; errors: Array<{ msg: string }> | null };
  if (!res.ok || body.errors) throw new ApiError(body.errors?.[0]?.msg ?? `${path}: HTTP ${res.status}`);
  return body.data;
}

export interface WindowMeta {
  spans: number;
  truncatedTraces: number;
}

export const api = {
  status: () => get<{ store: { spans: number; traces: number } | null; collector: unknown }>('/api/meshtrace/status'),
  services: () => get<string[]>('/api/services'),
  operations: (service: string) => get<string[]>(`/api/services/${encodeURIComponent(service)}/operations`),
  traces: (q: URLSearchParams) => get<JaegerTrace[]>(`/api/traces?${q}`),
  trace: (id: string) => get<JaegerTrace[]>(`/api/traces/${encodeURIComponent(id)}`),
  criticalPath: (id: string) =>
    get<{ criticalPath: CriticalPath; errorOrigin: ErrorOrigin | null }>(
      `/api/meshtrace/critical-path/${encodeURIComponent(id)}`,
    ),
  serviceMap: () => get<ServiceMap & WindowMeta>('/api/meshtrace/dependency-map'),
  latency: () => get<{ operations: OperationLatency[] } & WindowMeta>('/api/meshtrace/latency'),
  bottlenecks: () => get<{ bottlenecks: Bottleneck[] } & WindowMeta>('/api/meshtrace/bottlenecks'),
  errors: () =>
    get<
      {
        failedTraces: number;
        byOrigin: Array<{ service: string; operation: string; traces: number; message: string }>;
        traces: ErrorOrigin[];
      } & WindowMeta
    >('/api/meshtrace/errors'),
  regressions: () => get<VersionRegressions & WindowMeta>('/api/meshtrace/regressions'),
  sampling: () => get<{ sampling: SamplingStats; collector: unknown } & WindowMeta>('/api/meshtrace/sampling-stats'),
};
