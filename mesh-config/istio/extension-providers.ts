// The meshConfig.extensionProviders snippet (IstioOperator / istiod mesh config) naming the
// collector as an OpenTelemetry tracing provider and, in ext_authz mode, the authz service.
// Istio only uses a provider that a Telemetry or AuthorizationPolicy resource refers to.
import { type MeshtraceConfig, splitHostPort } from '../types.ts';
import { type K8sResource, urlHostPort } from './resource.ts';

export function extensionProviders(cfg: MeshtraceConfig): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (cfg.collector) {
    const { host, port, path } = urlHostPort(cfg.collector.endpoint);
    out.push({
      name: cfg.istio.provider_name,
      opentelemetry: {
        service: host,
        port,
        maxTagLength: cfg.enrichment.max_attribute_length,
        ...(cfg.collector.protocol === 'otlp_http'
          ? { http: { path: path === '/' ? '/v1/traces' : path, timeout: `${cfg.collector.timeout_ms / 1000}s` } }
          : {}),
      },
    });
  }
  if (cfg.ext_proc?.mode === 'ext_authz') {
    const { host, port } = splitHostPort(cfg.ext_proc.address);
    out.push({
      name: `${cfg.istio.provider_name}-ext-authz`,
      envoyExtAuthzGrpc: {
        service: host,
        port,
        timeout: `${cfg.ext_proc.timeout_ms / 1000}s`,
        failOpen: cfg.ext_proc.failure_mode_allow,
      },
    });
  }
  return out;
}

/** The snippet as an IstioOperator overlay (`istioctl install -f`). */
export function istioOperatorOverlay(cfg: MeshtraceConfig): K8sResource {
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: 'meshtrace', namespace: cfg.istio.root_namespace },
    spec: { meshConfig: { extensionProviders: extensionProviders(cfg) } },
  };
}
