// Istio WasmPlugin resources (extensions.istio.io/v1alpha1) that load the meshtrace filter.
// Two per service — SERVER (inbound listener, server spans) and CLIENT (outbound, client
// spans) — because the filter's `direction` differs and one pluginConfig serves one direction.
import { type Direction, filterConfig, istioCollectorRoute } from '../filter-config.ts';
import type { MeshtraceConfig } from '../types.ts';
import { type K8sResource, managedLabels } from './resource.ts';

export interface WasmPluginOptions {
  /** sha256 of the built .wasm; overrides wasm.sha256 (the CLI computes it from the file). */
  sha256?: string;
}

const MODE: Record<Direction, 'SERVER' | 'CLIENT'> = { inbound: 'SERVER', outbound: 'CLIENT' };

function wasmPlugin(
  cfg: MeshtraceConfig,
  target: { id: string; service: string; namespace: string; labels: Record<string, string> | undefined },
  direction: Direction,
  opts: WasmPluginOptions,
): K8sResource {
  const sha256 = opts.sha256 ?? cfg.wasm.sha256;
  return {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'WasmPlugin',
    metadata: {
      name: `meshtrace-${target.id}-${direction}`,
      namespace: target.namespace,
      labels: managedLabels(),
    },
    spec: {
      ...(target.labels && { selector: { matchLabels: { ...target.labels } } }),
      url: cfg.wasm.url,
      ...(sha256 !== undefined && { sha256 }),
      // Only meaningful for oci:// (Istio ignores it for file:// and https://).
      ...(cfg.wasm.url.startsWith('oci://') && { imagePullPolicy: cfg.wasm.image_pull_policy }),
      phase: cfg.wasm.phase,
      priority: cfg.wasm.priority,
      failStrategy: cfg.wasm.fail_strategy,
      type: 'HTTP',
      match: [{ mode: MODE[direction] }],
      // Export goes through the collector's ServiceEntry cluster (istio/collector.ts). Mesh
      // workloads talk over mTLS to each other: their listeners are internal to the boundary
      // (an ingress gateway that must distrust callers sets sampling.trust.boundary: edge).
      pluginConfig: filterConfig(cfg, target.service, direction, {
        collector: istioCollectorRoute(cfg),
        boundary: 'internal',
      }),
    },
  };
}

/**
 * WasmPlugins for every service in meshtrace.yaml, selected by the service's labels in its
 * namespace. With no services listed, one mesh-wide pair in the root namespace (Istio applies
 * a selector-less WasmPlugin there to every workload) using service name `unknown_service`,
 * the OpenTelemetry resource default.
 */
export function wasmPlugins(cfg: MeshtraceConfig, opts: WasmPluginOptions = {}): K8sResource[] {
  const http = cfg.services.filter((s) => s.protocol === 'http');
  const targets =
    http.length > 0
      ? http.map((s) => ({ id: s.name, service: s.name, namespace: s.namespace, labels: s.labels }))
      : [{ id: 'mesh', service: 'unknown_service', namespace: cfg.istio.root_namespace, labels: undefined }];
  return targets.flatMap((t) => (['inbound', 'outbound'] as const).map((d) => wasmPlugin(cfg, t, d, opts)));
}
