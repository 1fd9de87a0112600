// Envoy bootstraps for the three roles meshtrace runs in. All listen on `bindHost` (127.0.0.1
// locally), use static clusters and no xDS, and have no admin block: the caller adds one
// (`meshtrace up` and the tests pick free admin ports).
//
//   sidecar:  client ──▶ [inbound  :inbound_port ] ──▶ app (services[].address)
//             app    ──▶ [outbound :listen_port  ] ──▶ dependency's sidecar inbound (or address)
//   gateway:  client ──▶ [edge :gateway.port, ext_proc?, prefix routes] ──▶ service sidecars
//   lb:       client ──▶ [lb :load_balancer.port, retries] ──▶ upstreams[0..n]
//             the listener's filter makes the LB's server span; the cluster's upstream filter
//             runs per attempt, so attempt k gets its own span (and traceparent parent id).
import {
  type Boundary,
  bootstrapCollectorRoute,
  COLLECTOR_CLUSTER,
  type Direction,
  filterConfig,
} from '../filter-config.ts';
import { urlHostPort } from '../istio/resource.ts';
import { type MeshtraceConfig, type ServiceConfig, splitHostPort } from '../types.ts';
import {
  accessLog,
  attemptLog,
  cluster,
  httpConnectionManager,
  listener,
  restoreContextFilter,
  routerFilter,
  traceIdsToMetadataFilter,
  upstreamFilters,
  wasmFilter,
} from './common.ts';
import { extServiceFilter, grpcCluster } from './ext-service.ts';

export type Role = 'sidecar' | 'gateway' | 'lb';

export interface BootstrapOptions {
  /** Absolute path of the built meshtrace .wasm; without it the bootstrap has no Wasm filter. */
  wasmFile?: string;
  /** File the access logs go to (default: Envoy's stdout). */
  accessLogPath?: string;
  bindHost?: string;
}

export type EnvoyBootstrap = Record<string, unknown>;

function tracingFilters(
  cfg: MeshtraceConfig,
  service: string,
  direction: Direction,
  opts: BootstrapOptions,
  boundary: Boundary = 'internal',
) {
  const collector = bootstrapCollectorRoute(cfg);
  return [
    ...(opts.wasmFile
      ? [wasmFilter(opts.wasmFile, filterConfig(cfg, service, direction, { collector, boundary }))]
      : []),
    traceIdsToMetadataFilter(),
  ];
}

function logPath(opts: BootstrapOptions): string | undefined {
  return opts.accessLogPath;
}

/** Where traffic for `service` goes: its sidecar's inbound listener if it has one. */
function serviceTarget(cfg: MeshtraceConfig, name: string, bindHost: string): { host: string; port: number } {
  const svc = cfg.services.find((s) => s.name === name);
  if (!svc) throw new Error(`meshtrace.yaml: no service named "${name}"`);
  if (svc.sidecar.inbound_port !== undefined) return { host: bindHost, port: svc.sidecar.inbound_port };
  return splitHostPort(svc.address);
}

function catchAllRoute(clusterName: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'all',
    domains: ['*'],
    routes: [{ match: { prefix: '/' }, route: { cluster: clusterName, timeout: '15s', ...extra } }],
  };
}

/**
 * The cluster the filter's span export (http_call) goes to — only when the filter is loaded
 * and exports (an otlp_http collector). Short connect timeout: a dead collector costs spans
 * (counted collector_error), never requests.
 */
function collectorClusters(cfg: MeshtraceConfig, opts: BootstrapOptions): unknown[] {
  if (!opts.wasmFile || !bootstrapCollectorRoute(cfg) || !cfg.collector) return [];
  const { host, port, tls } = urlHostPort(cfg.collector.endpoint);
  const transport = tls
    ? {
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: host,
          },
        },
      }
    : {};
  return [cluster(COLLECTOR_CLUSTER, [{ host, port }], transport)];
}

function bootstrap(
  cfg: MeshtraceConfig,
  opts: BootstrapOptions,
  node: string,
  listeners: unknown[],
  clusters: unknown[],
): EnvoyBootstrap {
  return {
    node: { id: node, cluster: node },
    static_resources: { listeners, clusters: [...clusters, ...collectorClusters(cfg, opts)] },
  };
}

export function sidecarBootstrap(
  cfg: MeshtraceConfig,
  serviceName: string,
  opts: BootstrapOptions = {},
): EnvoyBootstrap {
  const bind = opts.bindHost ?? '127.0.0.1';
  const svc: ServiceConfig | undefined = cfg.services.find((s) => s.name === serviceName);
  if (!svc) throw new Error(`meshtrace.yaml: services: no service named "${serviceName}"`);
  if (svc.sidecar.inbound_port === undefined)
    throw new Error(
      `meshtrace.yaml: services[${cfg.services.indexOf(svc)}].sidecar.inbound_port: is required for a sidecar`,
    );
  const log = logPath(opts);
  const listeners: unknown[] = [
    listener('inbound', bind, svc.sidecar.inbound_port, [
      httpConnectionManager({
        statPrefix: 'inbound',
        virtualHosts: [catchAllRoute('local_app')],
        httpFilters: [...tracingFilters(cfg, svc.name, 'inbound', opts), routerFilter()],
        accessLogs: [accessLog(log, `${svc.name}-inbound`)],
      }),
    ]),
  ];
  const clusters: unknown[] = [cluster('local_app', [splitHostPort(svc.address)])];
  for (const dep of svc.dependencies) {
    const target = cfg.services.find((s) => s.name === dep.service);
    const clusterName = `outbound_${dep.service}`;
    clusters.push(cluster(clusterName, [serviceTarget(cfg, dep.service, bind)]));
    if (target?.protocol === 'tcp') {
      // Opaque TCP (e.g. Redis): no headers to carry context; the connection is logged.
      listeners.push(
        listener(`outbound_${dep.service}`, bind, dep.listen_port, [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
              stat_prefix: `outbound_${dep.service}`,
              cluster: clusterName,
              access_log: [
                accessLog(log, `${svc.name}-outbound-tcp`, { peer: dep.service, bytes_sent: '%BYTES_SENT%' }),
              ],
            },
          },
        ]),
      );
    } else {
      listeners.push(
        listener(`outbound_${dep.service}`, bind, dep.listen_port, [
          httpConnectionManager({
            statPrefix: `outbound_${dep.service}`,
            virtualHosts: [catchAllRoute(clusterName)],
            httpFilters: [...tracingFilters(cfg, svc.name, 'outbound', opts), routerFilter()],
            accessLogs: [accessLog(log, `${svc.name}-outbound`, { peer: dep.service })],
          }),
        ]),
      );
    }
  }
  return bootstrap(cfg, opts, `sidecar-${svc.name}`, listeners, clusters);
}

export function gatewayBootstrap(cfg: MeshtraceConfig, opts: BootstrapOptions = {}): EnvoyBootstrap {
  const bind = opts.bindHost ?? '127.0.0.1';
  const clusters: unknown[] = [];
  const seen = new Set<string>();
  const routes = cfg.gateway.routes.map((r) => {
    const name = `svc_${r.service}`;
    if (!seen.has(name)) {
      seen.add(name);
      clusters.push(cluster(name, [serviceTarget(cfg, r.service, bind)]));
    }
    return { match: { prefix: r.prefix }, route: { cluster: name, timeout: '15s' } };
  });
  const ext = cfg.ext_proc;
  const extFilters: unknown[] = [];
  if (ext) {
    const { host, port } = splitHostPort(ext.address);
    clusters.push(grpcCluster('meshtrace_ext', host, port));
    extFilters.push(extServiceFilter(ext, 'meshtrace_ext'));
  }
  const listeners = [
    listener('edge', bind, cfg.gateway.port, [
      httpConnectionManager({
        statPrefix: 'edge',
        virtualHosts: [{ name: 'edge', domains: ['*'], routes }],
        // Order: meshtrace first (it starts or continues the trace at the edge), then
        // ext_proc sees the context the filter settled on.
        httpFilters: [...tracingFilters(cfg, 'gateway', 'inbound', opts, 'edge'), ...extFilters, routerFilter()],
        accessLogs: [accessLog(logPath(opts), 'gateway')],
        edge: true,
      }),
    ]),
  ];
  return bootstrap(cfg, opts, 'gateway', listeners, clusters);
}

export function loadBalancerBootstrap(cfg: MeshtraceConfig, opts: BootstrapOptions = {}): EnvoyBootstrap {
  const lb = cfg.load_balancer;
  if (!lb) throw new Error('meshtrace.yaml: load_balancer: is required for --role lb');
  const bind = opts.bindHost ?? '127.0.0.1';
  const log = logPath(opts);
  const retry_policy = {
    retry_on: lb.retries.retry_on.join(','),
    num_retries: lb.retries.attempts,
    per_try_timeout: `${lb.retries.per_try_timeout_ms / 1000}s`,
    // A retry goes to a host not tried yet, so a dead upstream is not hit twice.
    retry_host_predicate: [
      {
        name: 'envoy.retry_host_predicates.previous_hosts',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
        },
      },
    ],
    host_selection_retry_max_attempts: String(Math.max(3, lb.upstreams.length)),
  };
  const perAttempt = opts.wasmFile
    ? upstreamFilters([
        restoreContextFilter(),
        wasmFilter(
          opts.wasmFile,
          filterConfig(cfg, lb.name, 'outbound', { collector: bootstrapCollectorRoute(cfg) }),
          'meshtrace-attempt',
        ),
      ])
    : {};
  const upstreamCluster = cluster(
    lb.name,
    lb.upstreams.map((u) => splitHostPort(u)),
    { lb_policy: lb.policy, ...perAttempt },
  );
  const listeners = [
    listener('lb', bind, lb.port, [
      httpConnectionManager({
        statPrefix: 'lb',
        virtualHosts: [
          {
            ...catchAllRoute(lb.name, { retry_policy }),
            // x-envoy-attempt-count on every attempt: the upstream (and its span) knows
            // which attempt it served; the same traceparent rides on all of them.
            include_request_attempt_count: true,
            include_attempt_count_in_response: true,
          },
        ],
        // The load balancer's listener is a front door (clients outside the mesh call it).
        httpFilters: [...tracingFilters(cfg, lb.name, 'inbound', opts, 'edge'), routerFilter(attemptLog(log, 'lb'))],
        accessLogs: [accessLog(log, 'lb')],
      }),
    ]),
  ];
  return bootstrap(cfg, opts, `lb-${lb.name}`, listeners, [upstreamCluster]);
}

/** All bootstraps a meshtrace.yaml describes, keyed by a file-name-safe name. */
export function allBootstraps(cfg: MeshtraceConfig, opts: BootstrapOptions = {}): Map<string, EnvoyBootstrap> {
  const out = new Map<string, EnvoyBootstrap>();
  for (const s of cfg.services)
    if (s.sidecar.inbound_port !== undefined) out.set(`sidecar-${s.name}`, sidecarBootstrap(cfg, s.name, opts));
  if (cfg.gateway.routes.length > 0) out.set('gateway', gatewayBootstrap(cfg, opts));
  if (cfg.load_balancer) out.set('lb', loadBalancerBootstrap(cfg, opts));
  return out;
}
