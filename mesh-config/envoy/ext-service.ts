// The ext_proc / ext_authz HTTP filter and the gRPC cluster it calls; shared by the Envoy
// bootstraps and the Istio EnvoyFilter so both insert the identical filter.
import type { MeshtraceConfig } from '../types.ts';

type ExtConfig = NonNullable<MeshtraceConfig['ext_proc']>;

function duration(ms: number): string {
  return `${ms / 1000}s`;
}

export function extServiceFilter(ext: ExtConfig, clusterName: string): Record<string, unknown> {
  const grpc_service = { envoy_grpc: { cluster_name: clusterName }, timeout: duration(ext.timeout_ms) };
  if (ext.mode === 'ext_proc') {
    return {
      name: 'envoy.filters.http.ext_proc',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
        grpc_service,
        // Fail open: a tracing side-service being down must never fail the request.
        failure_mode_allow: ext.failure_mode_allow,
        message_timeout: duration(ext.timeout_ms),
        // Headers only: trace context lives in headers, bodies would only add latency.
        processing_mode: {
          request_header_mode: 'SEND',
          response_header_mode: 'SEND',
          request_body_mode: 'NONE',
          response_body_mode: 'NONE',
          request_trailer_mode: 'SKIP',
          response_trailer_mode: 'SKIP',
        },
      },
    };
  }
  return {
    name: 'envoy.filters.http.ext_authz',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz',
      grpc_service,
      transport_api_version: 'V3',
      failure_mode_allow: ext.failure_mode_allow,
    },
  };
}

/**
 * Streams Envoy sends on one connection to the service before opening a new one. Envoy ends
 * every ext_proc stream with RST_STREAM (ExternalProcessorStreamImpl::close() calls closeStream()
 * then resetStream()), and the nghttp2 inside Node (≥ 1.57, the CVE-2023-44487 "rapid reset" fix)
 * answers a connection's 1,000th reset beyond a refill of 33/s with GOAWAY — Node 20 has no
 * option to raise that. Above ~33 req/s, every ~1,000 requests the connection went away and the
 * streams in flight on it failed open (bench:ext-proc: `streams_failed`, `failure_mode_allowed`).
 * A new connection every 500 streams keeps each one well under the burst.
 */
export const MAX_STREAMS_PER_CONNECTION = 500;

/** An HTTP/2 (gRPC) cluster. STATIC for IP literals, STRICT_DNS for names. */
export function grpcCluster(
  name: string,
  host: string,
  port: number,
  type: 'STATIC' | 'STRICT_DNS' = /^[0-9.]+$/.test(host) ? 'STATIC' : 'STRICT_DNS',
): Record<string, unknown> {
  return {
    name,
    type,
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
        common_http_protocol_options: { max_requests_per_connection: MAX_STREAMS_PER_CONNECTION },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] },
      ],
    },
  };
}
