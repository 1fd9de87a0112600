// The Envoy side of the contract, as config fragments (Envoy v3 JSON/YAML shape) for the HTTP
// filter chain, with the knobs tests and bench:ext-proc turn (processing modes, timeouts, fail
// mode). The gRPC cluster they call is mesh-config's (mesh-config/envoy/ext-service.ts
// grpcCluster): the one operators deploy is the one tested.
import { REQUESTED_ATTRIBUTES } from './enrich/envoy-attributes.ts';

export interface ExtFilterOptions {
  /** Cluster pointing at this service (mesh-config/envoy/ext-service.ts grpcCluster). */
  cluster: string;
  /** Envoy's per-call/per-message timeout. Default 200ms is Envoy's own ext_proc default. */
  timeout?: string;
  /**
   * Fail open: a dead or slow service must never fail the request (default true). With false,
   * Envoy answers 500 (ext_proc) or 403 (ext_authz) when the service is unreachable.
   */
  failureModeAllow?: boolean;
  /** Dynamic metadata namespace the service writes (ext_proc must be told to accept it). */
  metadataNamespace?: string;
}

/**
 * envoy.filters.http.ext_proc. Field notes (Envoy 1.40 ext_proc.v3.ExternalProcessor):
 * - processing_mode: request and response headers SEND; bodies NONE (the service asks for a
 *   buffered request body per request via mode_override — needs allow_mode_override); trailers SKIP.
 * - message_timeout: how long Envoy waits for each answer before failing open (default 200ms).
 * - request_attributes: sent once, on the first message; names from Envoy's attribute reference.
 * - metadata_options.receiving_namespaces.untyped: without it Envoy discards our dynamic_metadata.
 */
export function extProcFilter(o: ExtFilterOptions) {
  return {
    name: 'envoy.filters.http.ext_proc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      grpc_service: { envoy_grpc: { cluster_name: o.cluster }, timeout: '5s' },
      failure_mode_allow: o.failureModeAllow ?? true,
      message_timeout: o.timeout ?? '0.2s',
      allow_mode_override: true,
      processing_mode: {
        request_header_mode: 'SEND',
        response_header_mode: 'SEND',
        request_body_mode: 'NONE',
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      request_attributes: REQUESTED_ATTRIBUTES,
      metadata_options: { receiving_namespaces: { untyped: [o.metadataNamespace ?? 'meshtrace'] } },
    },
  };
}

/**
 * envoy.filters.http.ext_authz (gRPC, API v3). The OK response's headers are added to the
 * upstream request; the response's dynamic_metadata lands in namespace
 * envoy.filters.http.ext_authz. `timeout` bounds each Check (default 200ms).
 */
export function extAuthzFilter(o: ExtFilterOptions) {
  return {
    name: 'envoy.filters.http.ext_authz',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      grpc_service: { envoy_grpc: { cluster_name: o.cluster }, timeout: o.timeout ?? '0.2s' },
      transport_api_version: 'V3',
      failure_mode_allow: o.failureModeAllow ?? true,
    },
  };
}
