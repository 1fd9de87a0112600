// The Envoy side of the contract, as config fragments (Envoy v3 JSON/YAML shape) for the HTTP
// filter chain and the gRPC cluster. Tests, the bench and mesh-config generators use these so the
// service and the config it expects cannot drift apart.
import { REQUESTED_ATTRIBUTES } from './enrich/envoy-attributes.ts';

export interface ExtFilterOptions {
  /** Cluster pointing at this service (see grpcCluster). */
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

/**
 * Streams per connection to the service. Envoy ends every ext_proc stream with RST_STREAM
 * (ExternalProcessorStreamImpl::close() calls closeStream() then resetStream()), and the nghttp2
 * inside Node (≥ 1.57, the CVE-2023-44487 "rapid reset" fix) answers a connection's 1,000th reset
 * beyond a refill of 33/s with GOAWAY — Node 20 has no option to raise that. Above ~33 req/s,
 * every ~1,000 requests the connection went away and the streams in flight on it failed open
 * (bench:ext-proc: `streams_failed`, `failure_mode_allowed`). Envoy moving to a new connection
 * after this many streams keeps each one well under the burst.
 */
export const MAX_STREAMS_PER_CONNECTION = 500;

/** A STATIC HTTP/2 (gRPC) cluster to the service at 127.0.0.1:port. */
export function grpcCluster(name: string, port: number, host = '127.0.0.1') {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '0.25s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] },
      ],
    },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
        common_http_protocol_options: { max_requests_per_connection: MAX_STREAMS_PER_CONNECTION },
      },
    },
  };
}
