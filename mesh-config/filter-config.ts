// meshtrace.yaml → the JSON configuration of the meshtrace Proxy-Wasm filter (the same object
// becomes WasmPlugin.spec.pluginConfig in Istio and the Wasm filter's `configuration` string in
// a plain Envoy bootstrap). Shape documented in wasm-filters/README.md; the sampling, trust,
// enrichment and export sections follow the filter's later config sections.
import type { MeshtraceConfig } from './types.ts';

/** inbound: the proxy sits in front of the service (server spans); outbound: before its calls. */
export type Direction = 'inbound' | 'outbound';

export interface FilterConfig {
  service_name: string;
  direction: Direction;
  propagation: { inbound: string[]; outbound: string[] };
  traceresponse: boolean;
  /** core/sampling's section as written in meshtrace.yaml (the filter mirrors that schema). */
  sampling: Record<string, unknown>;
  trust: { incoming: string; boundaries: { cidrs: string[]; incoming: string }[] };
  enrichment: {
    resource: Record<string, string>;
    request_headers: { header: string; attribute: string }[];
    max_attribute_length: number;
  };
  export?: { endpoint: string; protocol: string; timeout_ms: number; max_queue: number };
}

/** The filter's config for one service and direction (inputs are copied, never shared). */
export function filterConfig(cfg: MeshtraceConfig, serviceName: string, direction: Direction): FilterConfig {
  const out: FilterConfig = {
    service_name: serviceName,
    direction,
    propagation: { inbound: [...cfg.propagation.inbound], outbound: [...cfg.propagation.outbound] },
    traceresponse: cfg.propagation.traceresponse,
    sampling: structuredClone(cfg.sampling),
    trust: {
      incoming: cfg.trust.incoming,
      boundaries: cfg.trust.boundaries.map((b) => ({ cidrs: [...b.cidrs], incoming: b.incoming })),
    },
    enrichment: {
      resource: { ...cfg.enrichment.resource },
      request_headers: cfg.enrichment.request_headers.map((h) => ({ ...h })),
      max_attribute_length: cfg.enrichment.max_attribute_length,
    },
  };
  if (cfg.collector) out.export = { ...cfg.collector };
  return out;
}
