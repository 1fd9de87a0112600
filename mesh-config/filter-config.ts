// meshtrace.yaml → the JSON configuration of the meshtrace Proxy-Wasm filter (the same object
// becomes WasmPlugin.spec.pluginConfig in Istio and the Wasm filter's `configuration` string in
// a plain Envoy bootstrap). The filter refuses unknown keys at on_configure (a typo must not
// fall back to a default — wasm-filters/assembly/filter/config.ts), so only the sections it
// reads today are emitted; FILTER_PENDING_SECTIONS lists the meshtrace.yaml sections that are
// validated here and will be passed on as the filter learns them.
import { urlHostPort } from './istio/resource.ts';
import type { LinkingParameters, MeshtraceConfig } from './types.ts';

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
  /** core/sampling's section (the filter's reader is wasm-filters/assembly/sampling/config.ts). */
  sampling?: Record<string, unknown>;
  /** Online linking (wasm-filters/assembly/linking/config.ts): both listeners of a linked service. */
  linking?: FilterLinking;
}

export interface FilterLinking extends LinkingParameters {
  /** The shared-data key both listeners of the workload meet at. */
  workload: string;
}

/** Where this proxy sits relative to the mesh's trust boundary (core/sampling `trust.boundary`). */
export type Boundary = 'edge' | 'internal';

/**
 * meshtrace.yaml sections the filter does not read yet (they reach ext_proc and Istio).
 * `trust` (per-peer CIDR policies) needs the peer address, which the filter does not read.
 */
export const FILTER_PENDING_SECTIONS = ['trust', 'enrichment'] as const;

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
  if (cfg.collector?.protocol !== 'otlp_http') return undefined;
  const { host, port } = urlHostPort(cfg.collector.endpoint);
  return { cluster: COLLECTOR_CLUSTER, authority: `${host}:${port}` };
}

/**
 * The route inside an Istio sidecar: Istio names the outbound cluster of a ServiceEntry
 * `outbound|<port>||<host>` (istio/collector.ts registers the collector's host, or
 * collector.meshtrace.local for an IP endpoint).
 */
export function istioCollectorRoute(cfg: MeshtraceConfig): CollectorRoute | undefined {
  if (cfg.collector?.protocol !== 'otlp_http') return undefined;
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

/**
 * meshtrace.yaml's sampling section for one proxy; none when the section is empty (the filter
 * then honours the caller's sampled flag and keeps new traces). core/sampling makes a listener
 * an edge unless told otherwise, which would distrust the gateway's decision at every sidecar,
 * so `trust.boundary` is set from where the proxy sits — unless the section sets it itself.
 */
function samplingSection(cfg: MeshtraceConfig, boundary: Boundary): Record<string, unknown> | undefined {
  if (Object.keys(cfg.sampling).length === 0) return undefined;
  const copy = structuredClone(cfg.sampling) as Record<string, unknown>;
  const trust = (copy.trust ?? {}) as Record<string, unknown>;
  if (trust.boundary === undefined) copy.trust = { ...trust, boundary };
  return copy;
}

export interface FilterConfigOptions {
  /** Export spans there (an otlp_http collector); none = no export. */
  collector?: CollectorRoute;
  /** Default `trust.boundary` for the sampling section: `edge` only where outside traffic enters. */
  boundary?: Boundary;
}

/** The filter's config for one service and direction (inputs are copied, never shared). */
export function filterConfig(
  cfg: MeshtraceConfig,
  serviceName: string,
  direction: Direction,
  opts: FilterConfigOptions = {},
): FilterConfig {
  const sampling = samplingSection(cfg, opts.boundary ?? 'internal');
  const linked = cfg.services.find((s) => s.name === serviceName)?.linking === true;
  return {
    service_name: serviceName,
    direction,
    propagation: { inbound: [...cfg.propagation.inbound], outbound: [...cfg.propagation.outbound] },
    traceresponse: cfg.propagation.traceresponse,
    ...(opts.collector && { export: exportSection(cfg, opts.collector) }),
    ...(sampling && { sampling }),
    ...(linked && { linking: { workload: serviceName, ...cfg.linking } }),
  };
}
