// The plugin / middleware settings: where spans go, which header formats are read and written,
// and the shared `sampling` section (core/sampling/schema.ts, the same one the filter uses).
// One error path: every problem is reported as `<path>: <what is wrong>`.
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError, parseSamplingConfig, type SamplingConfig } from '../../core/sampling/index.ts';
import { displayPath } from '../../core/sampling/schema.ts';
import { TRACE_FORMATS, type TraceFormat } from '../../core/trace-context/index.ts';

export const settingsSchema = {
  $id: 'https://meshtrace.dev/schemas/gateway-plugin.json',
  type: 'object',
  additionalProperties: false,
  required: ['otlp_url'],
  properties: {
    package: { type: 'string' }, // express-gateway's own key: where the plugin was loaded from
    service_name: { type: 'string', minLength: 1, maxLength: 256 },
    otlp_url: { type: 'string', pattern: '^https?://' },
    propagation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        inbound: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: TRACE_FORMATS } },
        outbound: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: TRACE_FORMATS } },
      },
    },
    export: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_queue_size: { type: 'integer', minimum: 1, maximum: 100000 },
        max_batch_size: { type: 'integer', minimum: 1, maximum: 100000 },
        flush_interval_ms: { type: 'integer', minimum: 10, maximum: 60000 },
        timeout_ms: { type: 'integer', minimum: 100, maximum: 60000 },
      },
    },
    sampling: { type: 'object' }, // validated by core/sampling with its own paths
  },
} as const;

export interface GatewaySettings {
  serviceName: string;
  otlpUrl: string;
  inbound: TraceFormat[];
  outbound: TraceFormat[];
  export: { maxQueueSize: number; maxBatchSize: number; flushIntervalMs: number; timeoutMs: number };
  sampling: SamplingConfig;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(settingsSchema);

function describe(e: ErrorObject, base: string): string {
  const path = displayPath(base, e.instancePath);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${displayPath(path, `/${String(p['missingProperty'])}`)}: is required`;
  if (e.keyword === 'additionalProperties') {
    return `${displayPath(path, `/${String(p['additionalProperty'])}`)}: unknown field`;
  }
  if (e.keyword === 'enum') return `${path}: must be one of ${(p['allowedValues'] as unknown[]).join(', ')}`;
  if (e.keyword === 'maximum') return `${path}: must be ≤ ${String(p['limit'])}`;
  if (e.keyword === 'minimum') return `${path}: must be ≥ ${String(p['limit'])}`;
  return `${path}: ${e.message ?? e.keyword}`;
}

/** Validates and normalises; throws ConfigError naming every bad field under `base`. */
export function parseGatewaySettings(raw: unknown, base: string): GatewaySettings {
  // biome-ignore lint/suspicious/noExplicitAny: read after schema validation
  const input = (raw ?? {}) as Record<string, any>;
  const problems: string[] = [];
  if (!validate(input as unknown)) for (const e of validate.errors ?? []) problems.push(describe(e, base));
  let sampling: SamplingConfig | null = null;
  try {
    sampling = parseSamplingConfig(input['sampling'], `${base}.sampling`);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length > 0 || sampling === null) throw new ConfigError(problems);
  const ex = input['export'] ?? {};
  return {
    serviceName: input['service_name'] ?? 'meshtrace-gateway',
    otlpUrl: input['otlp_url'],
    inbound: input['propagation']?.inbound ?? [...TRACE_FORMATS],
    outbound: input['propagation']?.outbound ?? ['w3c'],
    export: {
      maxQueueSize: ex['max_queue_size'] ?? 2048,
      maxBatchSize: ex['max_batch_size'] ?? 512,
      flushIntervalMs: ex['flush_interval_ms'] ?? 1000,
      timeoutMs: ex['timeout_ms'] ?? 10000,
    },
    sampling,
  };
}
