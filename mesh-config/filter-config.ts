// meshtrace.yaml → the JSON configuration of the meshtrace Proxy-Wasm filter (the same object
// becomes WasmPlugin.spec.pluginConfig in Istio and the Wasm filter's `configuration` string in
// a plain Envoy bootstrap). The filter refuses unknown keys at on_configure (a typo must not
// fall back to a default — wasm-filters/assembly/filter/config.ts), so only the sections it
// reads today are emitted; FILTER_PENDING_SECTIONS lists the meshtrace.yaml sections that are
// validated here and will be passed on as the filter learns them.
import { urlHostPort } from './istio/resource.ts';
import type { MeshtraceConfig } from './types.ts';

/** inbound: the proxy sits in front of the service (server spans); outbound: before its calls. */
export type Direction = 'inbound' | 'outbound';

/** The filter's `export` section (wasm-filters/assembly/export/config.ts). */
export interface FilterExport {
  cluster: string;
  authority: string;
  path: string;
  encoding: 'protobuf';
  queue_size: number;
  timeout_ms: number;
}

export interface FilterConfig {
  service_name: string;
  direction: Direction;
  propagation: { inbound: string[]; outbound: string[] };
  traceresponse: boolean;
  export?: FilterExport;
}

/**
 * meshtrace.yaml sections the filter does not read yet (they reach ext_proc and Istio).
 * `sampling` is read by the filter, but a section there also makes every sidecar an edge
 * (core/sampling: trust.boundary defaults to edge), which the mesh's own `trust` section
 * must decide first — so it is held back here until the two are mapped onto each other.
 */
export const FILTER_PENDING_SECTIONS = ['sampling', 'trust', 'enrichment'] as const;

/** Envoy cluster name of the collector in the bootstraps meshtrace generates. */
export const COLLECTOR_CLUSTER = 'meshtrace_collector';

/**
 * Where the filter's http_call goes: the collector's Envoy cluster and :authority. The filter
 * speaks OTLP/HTTP only, so an `otlp_grpc` collector (or none) gives no route and no export.
 */
export interface CollectorRoute {
  cluster: string;
  authority: string;
}

/** The route a plain Envoy bootstrap uses: our own static cluster (see collectorCluster). */
export function bootstrapCollectorRoute(cfg: MeshtraceConfig): CollectorRoute | undefined {
  if (!cfg.collector || cfg.collector.protocol !== 'otlp_http') return undefined;
  const { host, port } = urlHostPort(cfg.collector.endpoint);
  return { cluster: COLLECTOR_CLUSTER, authority: `${host}:${port}` };
}

/**
 * The route inside an Istio sidecar: Istio names the outbound cluster of a ServiceEntry
 * `outbound|<port>||<host>` (istio/collector.ts registers the collector's host, or
 * collector.meshtrace.local for an IP endpoint).
 */
export function istioCollectorRoute(cfg: MeshtraceConfig): CollectorRoute | undefined {
  if (!cfg.collector || cfg.collector.protocol !== 'otlp_http') return undefined;
  const { host, port } = urlHostPort(cfg.collector.endpoint);
  const registered = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host) ? 'collector.meshtrace.local' : host;
  return { cluster: `outbound|${port}||${registered}`, authority: `${registered}:${port}` };
}

function exportSection(cfg: MeshtraceConfig, route: CollectorRoute): FilterExport {
  // Checked by the schema; the route exists only for an otlp_http collector.
  const collector = cfg.collector as NonNullable<MeshtraceConfig['collector']>;
  const { path } = urlHostPort(collector.endpoint);
  return {
    cluster: route.cluster,
    authority: route.authority,
    // A bare endpoint is the OTLP base URL (OTLP exporter spec: base + /v1/traces).
    path: path === '/' || path === '' ? '/v1/traces' : path,
    encoding: 'protobuf',
    // The filter's queue must hold at least one batch (64 by default).
    queue_size: Math.max(collector.max_queue, 64),
    timeout_ms: collector.timeout_ms,
  };
}

/** The filter's config for one service and direction (inputs are copied, never shared). */
export function filterConfig(
  cfg: MeshtraceConfig,
  serviceName: string,
  direction: Direction,
  collector?: CollectorRoute,
): FilterConfig {
  return {
    service_name: serviceName,
    direction,
    propagation: { inbound: [...cfg.propagation.inbound], outbound: [...cfg.propagation.outbound] },
    traceresponse: cfg.propagation.traceresponse,
    ...(collector && { export: exportSection(cfg, collector) }),
  };
}
