// JSON Schema (draft-07, as Ajv 8 runs it) of meshtrace.yaml. Defaults written here are filled
// in by the loader, so this file is also the single list of defaults; mesh-config/README.md
// explains each field (range, default, and when Envoy or Istio ignores it).

import { samplingSchema } from '../core/sampling/schema.ts';

const { $id: _samplingId, ...samplingSchemaWithoutId } = samplingSchema;

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const hostPort = {
  type: 'string',
  // host:port — a DNS name, IPv4 address or [IPv6], then a port.
  pattern: '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$',
} as const;
const dnsLabel = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } as const;
// Names as the filter reads them (wasm-filters/assembly/trace-context/formats.ts).
const format = { enum: ['w3c', 'b3', 'b3multi', 'jaeger'] } as const;
const labelMap = {
  type: 'object',
  propertyNames: { pattern: '^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$', maxLength: 317 },
  additionalProperties: { type: 'string', maxLength: 63 },
} as const;
/** Headers that carry credentials: never copied into spans (enrichment rejects them). */
export const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'] as const;

export const meshtraceSchema = {
  $id: 'https://meshtrace.dev/schemas/meshtrace.yaml.json',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { const: 1 },
    propagation: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        inbound: { type: 'array', items: format, minItems: 1, uniqueItems: true, default: ['w3c', 'b3', 'b3multi'] },
        outbound: { type: 'array', items: format, minItems: 1, uniqueItems: true, default: ['w3c'] },
        traceresponse: { type: 'boolean', default: true },
      },
    },
    // The sampling section is core/sampling's schema, shared with the gateway plugins and the
    // ext_proc service (README there documents each field); it is passed to the filter as is.
    sampling: { ...samplingSchemaWithoutId, default: {} },
    trust: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        incoming: { enum: ['trust', 'restart', 'link'], default: 'trust' },
        boundaries: {
          type: 'array',
          default: [],
          maxItems: 32,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'cidrs', 'incoming'],
            properties: {
              name: dnsLabel,
              cidrs: {
                type: 'array',
                minItems: 1,
                items: { type: 'string', pattern: '^[0-9a-fA-F.:]+/[0-9]{1,3}$' },
              },
              incoming: { enum: ['trust', 'restart', 'link'] },
            },
          },
        },
      },
    },
    enrichment: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        resource: {
          type: 'object',
          default: {},
          maxProperties: 32,
          propertyNames: { pattern: '^[a-z][a-z0-9_.]*$', maxLength: 128 },
          additionalProperties: { type: 'string', maxLength: 256 },
        },
        request_headers: {
          type: 'array',
          default: [],
          maxItems: 16,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['header', 'attribute'],
            properties: {
              header: {
                type: 'string',
                pattern: '^[a-z0-9-]+$',
                maxLength: 64,
                not: { enum: [...SECRET_HEADERS] },
              },
              attribute: { type: 'string', pattern: '^[a-z][a-z0-9_.]*$', maxLength: 128 },
            },
          },
        },
        max_attribute_length: { type: 'integer', minimum: 16, maximum: 4096, default: 256 },
      },
    },
    // Online linking parameters (wasm-filters/README.md "Online linking"); which services are
    // linked is services[].linking.
    linking: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        threshold: { type: 'number', minimum: 0.5, maximum: 1, default: 0.9 },
        min_samples: { type: 'integer', minimum: 1, maximum: 100000, default: 20 },
        max_inflight: { type: 'integer', minimum: 1, maximum: 1024, default: 256 },
        max_candidates: { type: 'integer', minimum: 1, maximum: 256, default: 32 },
        max_age_ms: { type: 'integer', minimum: 1000, maximum: 3600000, default: 60000 },
      },
    },
    collector: {
      type: 'object',
      additionalProperties: false,
      required: ['endpoint'],
      properties: {
        endpoint: { type: 'string', pattern: '^https?://[^/\\s:]+(:[0-9]{1,5})?(/\\S*)?$' },
        protocol: { enum: ['otlp_http', 'otlp_grpc'], default: 'otlp_http' },
        timeout_ms: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
        max_queue: { type: 'integer', minimum: 1, maximum: 65536, default: 2048 },
      },
    },
    ext_proc: {
      type: 'object',
      additionalProperties: false,
      required: ['mode', 'address'],
      properties: {
        mode: { enum: ['ext_proc', 'ext_authz'] },
        address: hostPort,
        timeout_ms: { type: 'integer', minimum: 1, maximum: 10000, default: 200 },
        failure_mode_allow: { type: 'boolean', default: true },
      },
    },
    wasm: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: {
          type: 'string',
          pattern: '^(oci://|https://|file:///)\\S+$',
          default: 'oci://ghcr.io/meshtrace/meshtrace-filter:0.1.0',
        },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        phase: { enum: ['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'], default: 'AUTHN' },
        priority: { type: 'integer', minimum: -2147483648, maximum: 2147483647, default: 1000 },
        fail_strategy: { enum: ['FAIL_OPEN', 'FAIL_CLOSE'], default: 'FAIL_OPEN' },
        image_pull_policy: { enum: ['IfNotPresent', 'Always'], default: 'IfNotPresent' },
        local_file: { type: 'string', minLength: 1, default: 'wasm-filters/build/meshtrace-filter.wasm' },
      },
    },
    istio: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        root_namespace: { ...dnsLabel, default: 'istio-system' },
        provider_name: { ...dnsLabel, default: 'meshtrace' },
        own_sampling: { enum: ['off', 'align'], default: 'off' },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { ...port, default: 8080 },
        routes: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['prefix', 'service'],
            properties: { prefix: { type: 'string', pattern: '^/' }, service: dnsLabel },
          },
        },
      },
    },
    load_balancer: {
      type: 'object',
      additionalProperties: false,
      required: ['upstreams'],
      properties: {
        name: { ...dnsLabel, default: 'backend' },
        port: { ...port, default: 8090 },
        upstreams: { type: 'array', minItems: 1, maxItems: 64, items: hostPort },
        policy: { enum: ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'], default: 'ROUND_ROBIN' },
        retries: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            attempts: { type: 'integer', minimum: 0, maximum: 10, default: 2 },
            per_try_timeout_ms: { type: 'integer', minimum: 1, maximum: 60000, default: 2000 },
            retry_on: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { enum: ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream'] },
              default: ['5xx', 'connect-failure', 'reset'],
            },
          },
        },
      },
    },
    services: {
      type: 'array',
      default: [],
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'address'],
        properties: {
          name: dnsLabel,
          namespace: { ...dnsLabel, default: 'default' },
          labels: labelMap,
          address: hostPort,
          protocol: { enum: ['http', 'tcp'], default: 'http' },
          // The service forwards no trace headers: its sidecar links its calls to its requests.
          linking: { type: 'boolean', default: false },
          sidecar: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: { inbound_port: port },
          },
          dependencies: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['service', 'listen_port'],
              properties: { service: dnsLabel, listen_port: port },
            },
          },
        },
      },
    },
  },
} as const;
