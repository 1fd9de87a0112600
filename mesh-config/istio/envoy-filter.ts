// EnvoyFilter (networking.istio.io/v1alpha3) that puts the meshtrace ext_proc or ext_authz
// service in front of the router on the ingress gateway. Istio has no first-class resource for
// ext_proc, so this is the supported way; ext_authz could also go through an
// extensionProvider + AuthorizationPolicy (see extension-providers.ts), this is the direct one.
import { extServiceFilter, grpcCluster } from '../envoy/ext-service.ts';
import { type MeshtraceConfig, splitHostPort } from '../types.ts';
import { type K8sResource, managedLabels } from './resource.ts';

/** Istio's default ingress gateway pods carry this label. */
export const INGRESS_GATEWAY_SELECTOR = { istio: 'ingressgateway' } as const;

export function extServiceEnvoyFilter(cfg: MeshtraceConfig): K8sResource | undefined {
  const ext = cfg.ext_proc;
  if (!ext) return undefined;
  const { host, port } = splitHostPort(ext.address);
  const cluster = `outbound|${port}||${host}`;
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: {
      name: `meshtrace-${ext.mode.replace('_', '-')}`,
      namespace: cfg.istio.root_namespace,
      labels: managedLabels(),
    },
    spec: {
      workloadSelector: { labels: { ...INGRESS_GATEWAY_SELECTOR } },
      configPatches: [
        {
          // A STRICT_DNS cluster of our own, in case the service is not in Istio's registry
          // (when it is, Istio's cluster of the same name already exists and this ADD is a no-op).
          applyTo: 'CLUSTER',
          match: { context: 'GATEWAY' },
          patch: { operation: 'ADD', value: grpcCluster(cluster, host, port, 'STRICT_DNS') },
        },
        {
          applyTo: 'HTTP_FILTER',
          match: {
            context: 'GATEWAY',
            listener: {
              filterChain: {
                filter: {
                  name: 'envoy.filters.network.http_connection_manager',
                  subFilter: { name: 'envoy.filters.http.router' },
                },
              },
            },
          },
          patch: { operation: 'INSERT_BEFORE', value: extServiceFilter(ext, cluster) },
        },
      ],
    },
  };
}
