// The shape of a validated meshtrace.yaml after defaults are filled in (see schema.ts).

export type PropagationFormat = 'w3c' | 'b3' | 'b3multi' | 'jaeger';
export type IncomingPolicy = 'trust' | 'restart' | 'link';

export interface ServiceConfig {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** host:port of the application itself. */
  address: string;
  protocol: 'http' | 'tcp';
  /** The service forwards no trace headers: its sidecar links its calls online (issue 9). */
  linking: boolean;
  sidecar: { inbound_port?: number };
  dependencies: { service: string; listen_port: number }[];
}

/** The filter's linking parameters (wasm-filters/assembly/linking/config.ts), snake_case as written. */
export interface LinkingParameters {
  threshold: number;
  min_samples: number;
  max_inflight: number;
  max_candidates: number;
  max_age_ms: number;
}

export interface MeshtraceConfig {
  version: 1;
  propagation: { inbound: PropagationFormat[]; outbound: PropagationFormat[]; traceresponse: boolean };
  /** core/sampling's section, raw (snake_case) as written; see core/sampling/schema.ts. */
  sampling: { probability?: number; [key: string]: unknown };
  trust: { incoming: IncomingPolicy; boundaries: { name: string; cidrs: string[]; incoming: IncomingPolicy }[] };
  enrichment: {
    resource: Record<string, string>;
    request_headers: { header: string; attribute: string }[];
    max_attribute_length: number;
  };
  linking: LinkingParameters;
  collector?: { endpoint: string; protocol: 'otlp_http' | 'otlp_grpc'; timeout_ms: number; max_queue: number };
  ext_proc?: { mode: 'ext_proc' | 'ext_authz'; address: string; timeout_ms: number; failure_mode_allow: boolean };
  wasm: {
    url: string;
    sha256?: string;
    phase: 'UNSPECIFIED_PHASE' | 'AUTHN' | 'AUTHZ' | 'STATS';
    priority: number;
    fail_strategy: 'FAIL_OPEN' | 'FAIL_CLOSE';
    image_pull_policy: 'IfNotPresent' | 'Always';
    local_file: string;
  };
  istio: { root_namespace: string; provider_name: string; own_sampling: 'off' | 'align' };
  gateway: { port: number; routes: { prefix: string; service: string }[] };
  load_balancer?: {
    name: string;
    port: number;
    upstreams: string[];
    policy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';
    retries: { attempts: number; per_try_timeout_ms: number; retry_on: string[] };
  };
  services: ServiceConfig[];
}

/** host:port → parts (the schema has already checked the shape). */
export function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}
