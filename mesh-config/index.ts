// mesh-config: meshtrace.yaml → validated config → Istio resources and Envoy bootstraps.
// Every generator is a pure function of the config (golden-tested); only load.ts reads files.
export {
  allBootstraps,
  type BootstrapOptions,
  type EnvoyBootstrap,
  gatewayBootstrap,
  loadBalancerBootstrap,
  type Role,
  sidecarBootstrap,
} from './envoy/bootstrap.ts';
export { validateBootstrap } from './envoy/validate.ts';
export { type FilterConfig, filterConfig } from './filter-config.ts';
export * from './istio/index.ts';
export { ConfigError, displayPath, loadConfig, parseConfig, parseConfigText } from './load.ts';
export { meshtraceSchema } from './schema.ts';
export type { MeshtraceConfig, ServiceConfig } from './types.ts';
