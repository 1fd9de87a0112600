// Building blocks shared by the three bootstrap roles: the meshtrace Wasm filter, the access
// log that carries trace and span ids, clusters, and the HTTP connection manager.
import type { FilterConfig } from '../filter-config.ts';

export const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Wasm filter. All listeners share one VM (same vm_id and code) — one copy of the module. */
export function wasmFilter(
  wasmFile: string,
  config: FilterConfig,
  name = `meshtrace-${config.direction}`,
): Record<string, unknown> {
  return {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name,
        root_id: 'meshtrace',
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: JSON.stringify(config) },
        // A broken module must not take traffic down (fail open): Envoy then skips the filter.
        failure_policy: 'FAIL_OPEN',
        vm_config: { vm_id: 'meshtrace', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: wasmFile } } },
      },
    },
  };
}

/**
 * Copies trace id and span id out of the traceparent (W3C Trace Context §3.2:
 * version "-" trace-id(32 hex) "-" parent-id(16 hex) "-" flags) into dynamic metadata
 * `meshtrace.trace_id` / `meshtrace.span_id`, for the access log. Runs after the meshtrace
 * filter, so it sees the context that is forwarded, not the one that arrived.
 */
export function traceIdsToMetadataFilter(): Record<string, unknown> {
  const rule = (key: string, group: 1 | 2) => ({
    header: 'traceparent',
    on_header_present: {
      metadata_namespace: 'meshtrace',
      key,
      type: 'STRING',
      regex_value_rewrite: {
        // Field split on '-', not exact hex counts: Envoy caps RE2 program size at 100 and
        // `{32}` repetitions exceed it; the filter only forwards well-formed values anyway.
        pattern: { regex: '^[^-]+-([^-]+)-([^-]+)-.*$' },
        substitution: `\\${group}`,
      },
    },
    remove: false,
  });
  return {
    name: 'envoy.filters.http.header_to_metadata',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_to_metadata.v3.Config',
      request_rules: [
        rule('trace_id', 1),
        rule('span_id', 2),
        // The whole header too: per-attempt upstream filters restore it (restoreContextFilter).
        {
          header: 'traceparent',
          on_header_present: { metadata_namespace: 'meshtrace', key: 'traceparent', type: 'STRING' },
          remove: false,
        },
      ],
    },
  };
}

/**
 * JSON access log lines, to `path` or (undefined) Envoy's stdout logger — which, unlike a file
 * logger on /dev/stdout, works when stdout is a socket (as under Node's child_process).
 * Fields are the same on every role.
 */
export function accessLog(
  path: string | undefined,
  role: string,
  extra: Record<string, string> = {},
): Record<string, unknown> {
  const log_format = {
    json_format: {
      time: '%START_TIME%',
      role,
      trace_id: '%DYNAMIC_METADATA(meshtrace:trace_id)%',
      span_id: '%DYNAMIC_METADATA(meshtrace:span_id)%',
      method: '%REQ(:METHOD)%',
      path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
      status: '%RESPONSE_CODE%',
      flags: '%RESPONSE_FLAGS%',
      duration_ms: '%DURATION%',
      upstream_host: '%UPSTREAM_HOST%',
      attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%',
      ...extra,
    },
  };
  if (path === undefined)
    return {
      name: 'envoy.access_loggers.stdout',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
        log_format,
      },
    };
  return {
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path,
      log_format,
    },
  };
}

/**
 * One line per upstream attempt (router `upstream_log`): which host, what it answered, the
 * attempt number and the traceparent that attempt carried (trace id and the attempt's own
 * span id). In an upstream log REQ() reads the headers as sent on that attempt, after the
 * per-attempt filters; the downstream dynamic metadata is not visible there.
 */
export function attemptLog(path: string | undefined, role: string): Record<string, unknown> {
  const log = accessLog(path, `${role}-attempt`, {
    attempt: '%REQ(X-ENVOY-ATTEMPT-COUNT)%',
    traceparent: '%REQ(TRACEPARENT)%',
  });
  const fields = (log.typed_config as { log_format: { json_format: Record<string, string> } }).log_format.json_format;
  delete fields.trace_id;
  delete fields.span_id;
  delete fields.attempts;
  return log;
}

export function routerFilter(upstreamLog?: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'envoy.filters.http.router',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
      ...(upstreamLog && { upstream_log: [upstreamLog] }),
    },
  };
}

export function httpConnectionManager(opts: {
  statPrefix: string;
  virtualHosts: unknown[];
  httpFilters: unknown[];
  accessLogs: unknown[];
  /** The edge: trust the TCP peer address, not a client-sent x-forwarded-for. */
  edge?: boolean;
}): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM_TYPE,
      stat_prefix: opts.statPrefix,
      // No Envoy-native tracing: the meshtrace filter is the tracer (no double sampling).
      route_config: { name: opts.statPrefix, virtual_hosts: opts.virtualHosts },
      http_filters: opts.httpFilters,
      access_log: opts.accessLogs,
      // Only the edge appends the peer address to x-forwarded-for and treats it as the
      // client; inner proxies keep the chain the edge wrote.
      use_remote_address: opts.edge === true,
    },
  };
}

export function listener(name: string, host: string, port: number, filters: unknown[]): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: host, port_value: port } },
    filter_chains: [{ filters }],
  };
}

export function cluster(
  name: string,
  endpoints: { host: string; port: number }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const dns = endpoints.some((e) => !/^[0-9.]+$/.test(e.host) && !e.host.includes(':'));
  return {
    name,
    type: dns ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: endpoints.map((e) => ({
            endpoint: { address: { socket_address: { address: e.host, port_value: e.port } } },
          })),
        },
      ],
    },
    ...extra,
  };
}

/**
 * Upstream filter that resets `traceparent` to the proxy's own span before each attempt.
 * Envoy hands a retry the request headers as the previous attempt's upstream filters left
 * them (checked against Envoy 1.40: a value appended upstream on attempt 1 arrives twice on
 * attempt 2), so without this attempt 2 would take attempt 1's span as its parent. The value
 * comes from the downstream dynamic metadata, which upstream filters can read.
 */
export function restoreContextFilter(): Record<string, unknown> {
  return {
    name: 'envoy.filters.http.header_mutation',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      mutations: {
        request_mutations: [
          {
            append: {
              header: { key: 'traceparent', value: '%DYNAMIC_METADATA(meshtrace:traceparent)%' },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          },
        ],
      },
    },
  };
}

/**
 * Cluster-level upstream HTTP filters: they run once per upstream attempt (retries included),
 * after the router picked the host. The meshtrace filter here (direction outbound) gives each
 * attempt its own span id under the proxy's span. `upstream_codec` must be last.
 */
export function upstreamFilters(filters: unknown[]): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http_protocol_options: {} },
        http_filters: [
          ...filters,
          {
            name: 'envoy.filters.http.upstream_codec',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec',
            },
          },
        ],
      },
    },
  };
}
