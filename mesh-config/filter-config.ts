// meshtrace.yaml → the JSON configuration of the meshtrace Proxy-Wasm filter (the same object
// becomes WasmPlugin.spec.pluginConfig in Istio and the Wasm filter's `configuration` string in
// a plain Envoy bootstrap). The filter refuses unknown keys at on_configure (a typo must not
// fall back to a default — wasm-filters/assembly/filter/config.ts), so only the sections it
// reads today are emitted; FILTER_PENDING_SECTIONS lists the meshtrace.yaml sections that are
// validated here and will be passed on as the filter learns them.
import type { MeshtraceConfig } from './types.ts';

/** inbound: the proxy sits in front of the service (server spans); outbound: before its calls. */
export type Direction = 'inbound' | 'outbound';

export interface FilterConfig {
  service_name: string;
  direction: Direction;
  propagation: { inbound: string[]; outbound: string[] };
  traceresponse: boolean;
}

/** meshtrace.yaml sections the filter does not read yet (they reach ext_proc and Istio). */
export const FILTER_PENDING_SECTIONS = ['sampling', 'trust', 'enrichment', 'collector'] as const;

/** The filter's config for one service and direction (inputs are copied, never shared). */
export function filterConfig(cfg: MeshtraceConfig, serviceName: string, direction: Direction): FilterConfig {
  return {
    service_name: serviceName,
    direction,
    propagation: { inbound: [...cfg.propagation.inbound], outbound: [...cfg.propagation.outbound] },
    traceresponse: cfg.propagation.traceresponse,
  };
}
