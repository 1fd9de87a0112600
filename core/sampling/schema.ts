// The `sampling` config section — one JSON Schema shared by the express-gateway plugin, the
// Express middleware, the ext_proc service, mesh-config and (mirrored by hand) the AS filter.
// README.md documents every field. `parseSamplingConfig` is the one error path: it validates,
// then normalises to the camelCase shape the samplers take; every problem is reported as
// `<path>: <what is wrong>` with the path written the way a user sees it in YAML/JSON.
import { Ajv, type ErrorObject } from 'ajv';
import type { CostCapConfig } from './cost-cap.ts';
import type { DebugConfig } from './debug.ts';
import type { ErrorBiasConfig, LatencyConfig } from './response.ts';
import type { Rule } from './rules.ts';
import type { TrustConfig } from './trust.ts';

const headerName = { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", maxLength: 128 };
const pathPrefix = { type: 'string', pattern: '^/', maxLength: 1024 };

export const samplingSchema = {
  $id: 'https://meshtrace.dev/schemas/sampling.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    probability: { type: 'number', minimum: 0, maximum: 1 },
    precision: { type: 'integer', minimum: 1, maximum: 14 },
    error: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        http_status_min: { type: 'integer', minimum: 400, maximum: 599 },
        grpc: { type: 'boolean' },
        reset: { type: 'boolean' },
      },
    },
    latency: {
      type: 'object',
      additionalProperties: false,
      properties: {
        threshold_ms: { type: ['number', 'null'], minimum: 0 },
        routes: {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['threshold_ms'],
            properties: {
              path_prefix: pathPrefix,
              route: { type: 'string', minLength: 1, maxLength: 256 },
              threshold_ms: { type: 'number', minimum: 0 },
            },
          },
        },
      },
    },
    debug: {
      type: 'object',
      additionalProperties: false,
      properties: {
        header: { ...headerName, type: ['string', 'null'] },
        user_header: { ...headerName, type: ['string', 'null'] },
        jwt_claim: { type: ['string', 'null'], minLength: 1, maxLength: 128 },
        jwt_header: headerName,
        users: { type: 'array', maxItems: 1024, items: { type: 'string', minLength: 1, maxLength: 256 } },
        operations: {
          type: 'array',
          maxItems: 256,
          items: { type: 'string', pattern: '^(\\*|[A-Z]+) /', maxLength: 1024 },
        },
      },
    },
    rules: {
      type: 'array',
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['action'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128 },
          match: {
            type: 'object',
            additionalProperties: false,
            properties: {
              method: {
                anyOf: [
                  { type: 'string', pattern: '^[A-Za-z]+$' },
                  { type: 'array', items: { type: 'string', pattern: '^[A-Za-z]+$' }, maxItems: 16 },
                ],
              },
              path_prefix: pathPrefix,
              path_regex: { type: 'string', minLength: 1, maxLength: 1024 },
              authority: { type: 'string', minLength: 1, maxLength: 256 },
              headers: {
                type: 'object',
                maxProperties: 16,
                propertyNames: headerName,
                additionalProperties: { type: 'string', maxLength: 1024 },
              },
            },
          },
          action: { enum: ['always', 'never', 'rate'] },
          rate: { type: 'number', minimum: 0, maximum: 1 },
        },
        if: { properties: { action: { const: 'rate' } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
        then: { required: ['rate'] },
      },
    },
    cost_cap: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['per_second'],
      properties: {
        per_second: { type: 'number', exclusiveMinimum: 0, maximum: 1000000 },
        burst: { type: 'number', minimum: 1, maximum: 1000000 },
        per: { enum: ['route', 'service'] },
        max_keys: { type: 'integer', minimum: 1, maximum: 100000 },
      },
    },
    trust: {
      type: 'object',
      additionalProperties: false,
      properties: {
        boundary: { enum: ['edge', 'internal'] },
        inbound_context: { enum: ['parent', 'link'] },
        debug_token: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['keys'],
          properties: {
            header: headerName,
            keys: {
              type: 'array',
              minItems: 1,
              maxItems: 16,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['id', 'secret'],
                properties: {
                  id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
                  secret: { type: 'string', minLength: 16, maxLength: 1024 },
                },
              },
            },
            max_ttl_s: { type: 'integer', minimum: 1, maximum: 604800 },
          },
        },
      },
    },
  },
} as const;

/** The normalised configuration every sampler is built from. */
export interface SamplingConfig {
  probability: number;
  precision: number;
  error: ErrorBiasConfig;
  latency: LatencyConfig;
  debug: DebugConfig;
  rules: Rule[];
  costCap: CostCapConfig | null;
  trust: TrustConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(samplingSchema);

/** `/rules/2/rate` under `sampling` → `sampling.rules[2].rate`. */
export function displayPath(base: string, pointer: string): string {
  let out = base;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(seg)
      ? `[${seg}]`
      : /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)
        ? `.${seg}`
        : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function describe(e: ErrorObject, base: string): string | null {
  const path = displayPath(base, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${displayPath(path, `/${String(p['missingProperty'])}`)}: is required`;
    case 'additionalProperties':
      return `${displayPath(path, `/${String(p['additionalProperty'])}`)}: unknown field`;
    case 'maximum':
      return `${path}: must be ≤ ${String(p['limit'])}`;
    case 'minimum':
      return `${path}: must be ≥ ${String(p['limit'])}`;
    case 'exclusiveMinimum':
      return `${path}: must be > ${String(p['limit'])}`;
    case 'enum':
      return `${path}: must be one of ${(p['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'type':
      return `${path}: must be ${String(p['type']).replace(',', ' or ')}`;
    case 'if':
    case 'anyOf':
      return null; // the failing branch already produced a precise message
    default:
      return `${path}: ${e.message ?? e.keyword}`;
  }
}

function rejectProblems(raw: unknown, base: string): string[] {
  const problems: string[] = [];
  if (!validate(raw)) {
    for (const e of validate.errors ?? []) {
      const msg = describe(e, base);
      if (msg !== null && !problems.includes(msg)) problems.push(msg);
    }
  }
  return problems;
}

// The input has passed the schema by the time fields are read, so `any` is narrowed by it.
// biome-ignore lint/suspicious/noExplicitAny: validated against samplingSchema above
type Raw = Record<string, any>;

/**
 * Validates `raw` (the `sampling` section; undefined = all defaults) and returns the
 * normalised config, or throws one ConfigError listing every problem with its path.
 * `base` is how the section is named in the user's file (e.g. `plugins.meshtrace.sampling`).
 */
export function parseSamplingConfig(raw: unknown, base = 'sampling'): SamplingConfig {
  const input: Raw = raw === undefined || raw === null ? {} : (raw as Raw);
  const problems = rejectProblems(input, base);
  const rules: Rule[] = [];
  (Array.isArray(input['rules']) ? (input['rules'] as Raw[]) : []).forEach((r, i) => {
    const m: Raw = r?.match ?? {};
    let regex: RegExp | null = null;
    if (typeof m['path_regex'] === 'string') {
      try {
        regex = new RegExp(m['path_regex']);
      } catch (err) {
        problems.push(`${base}.rules[${i}].match.path_regex: invalid regular expression (${(err as Error).message})`);
      }
    }
    const methods = m['method'] === undefined ? [] : ([] as string[]).concat(m['method']);
    rules.push({
      name: typeof r?.name === 'string' ? r.name : `rules[${i}]`,
      match: {
        methods: methods.map((x) => String(x).toUpperCase()),
        pathPrefix: m['path_prefix'] ?? null,
        pathRegex: regex,
        authority: typeof m['authority'] === 'string' ? m['authority'].toLowerCase() : null,
        headers: Object.entries((m['headers'] ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      },
      action: r?.action,
      rate: typeof r?.rate === 'number' ? r.rate : 0,
    });
  });
  const tokenCfg: Raw | null = input['trust']?.debug_token ?? null;
  const keyIds = new Set<string>();
  ((tokenCfg?.keys ?? []) as Raw[]).forEach((k, i) => {
    if (keyIds.has(k?.id)) problems.push(`${base}.trust.debug_token.keys[${i}].id: duplicate key id "${k.id}"`);
    keyIds.add(k?.id);
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const err: Raw = input['error'] ?? {};
  const lat: Raw = input['latency'] ?? {};
  const dbg: Raw = input['debug'] ?? {};
  const cap: Raw | null = input['cost_cap'] ?? null;
  const trust: Raw = input['trust'] ?? {};
  const lc = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : null);
  return {
    probability: input['probability'] ?? 1,
    precision: input['precision'] ?? 4,
    error: {
      enabled: err['enabled'] ?? true,
      httpStatusMin: err['http_status_min'] ?? 500,
      grpc: err['grpc'] ?? true,
      reset: err['reset'] ?? true,
    },
    latency: {
      thresholdMs: lat['threshold_ms'] ?? null,
      routes: ((lat['routes'] ?? []) as Raw[]).map((r) => ({
        pathPrefix: r['path_prefix'] ?? null,
        route: r['route'] ?? null,
        thresholdMs: r['threshold_ms'],
      })),
    },
    debug: {
      header: dbg['header'] === undefined ? 'x-meshtrace-debug' : lc(dbg['header']),
      userHeader: lc(dbg['user_header']),
      jwtClaim: dbg['jwt_claim'] ?? null,
      jwtHeader: lc(dbg['jwt_header']) ?? 'authorization',
      users: new Set<string>(dbg['users'] ?? []),
      operations: ((dbg['operations'] ?? []) as string[]).map((o) => {
        const i = o.indexOf(' ');
        return { method: o.slice(0, i), pathPrefix: o.slice(i + 1) };
      }),
    },
    rules,
    costCap:
      cap === null
        ? null
        : {
            perSecond: cap['per_second'],
            burst: cap['burst'] ?? Math.max(1, cap['per_second']),
            per: cap['per'] ?? 'route',
            maxKeys: cap['max_keys'] ?? 1024,
          },
    trust: {
      boundary: trust['boundary'] ?? 'edge',
      inboundContext: trust['inbound_context'] ?? 'parent',
      tokenHeader: tokenCfg === null ? null : (lc(tokenCfg['header']) ?? 'x-meshtrace-debug-token'),
      tokens: {
        keys: new Map(((tokenCfg?.keys ?? []) as Raw[]).map((k) => [k['id'] as string, k['secret'] as string])),
        maxTtlS: tokenCfg?.max_ttl_s ?? 3600,
      },
    },
  };
}
