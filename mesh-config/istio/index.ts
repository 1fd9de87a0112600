// Everything meshtrace deploys into an Istio mesh, in apply order.
import type { MeshtraceConfig } from '../types.ts';
import { collectorResources } from './collector.ts';
import { extServiceEnvoyFilter } from './envoy-filter.ts';
import { istioOperatorOverlay } from './extension-providers.ts';
import type { K8sResource } from './resource.ts';
import { telemetry } from './telemetry.ts';
import { type WasmPluginOptions, wasmPlugins } from './wasm-plugin.ts';

export { collectorResources } from './collector.ts';
export { extServiceEnvoyFilter, INGRESS_GATEWAY_SELECTOR } from './envoy-filter.ts';
export { extensionProviders, istioOperatorOverlay } from './extension-providers.ts';
export { namespaceManifests, workloadPatches } from './enablement.ts';
export type { K8sResource } from './resource.ts';
export { telemetry } from './telemetry.ts';
export { validateIstioResource, validateIstioResources } from './validate.ts';
export { wasmPlugins } from './wasm-plugin.ts';

/** The Istio custom resources (not the mesh-config overlay, which goes to istioctl). */
export function istioResources(cfg: MeshtraceConfig, opts: WasmPluginOptions = {}): K8sResource[] {
  const ef = extServiceEnvoyFilter(cfg);
  return [...collectorResources(cfg), telemetry(cfg), ...wasmPlugins(cfg, opts), ...(ef ? [ef] : [])];
}

export function allIstioResources(cfg: MeshtraceConfig, opts: WasmPluginOptions = {}): K8sResource[] {
  return [...istioResources(cfg, opts), istioOperatorOverlay(cfg)];
}
