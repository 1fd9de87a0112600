// Service configuration: YAML in, a fully normalised object out. Every rejection names the field
// path (`enrich.headers[2]`) and what is wrong, so a bad file fails at start-up, not per request.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError as SamplingConfigError,
  parseSamplingConfig,
  type SamplingConfig,
} from '../core/sampling/index.ts';
import { TRACE_FORMATS, type TraceFormat } from '../core/trace-context/index.ts';

export type Mode = 'span' | 'metadata';

export interface JwtConfig {
  /** Request header carrying the token; the `Bearer ` prefix is stripped. */
  header: string;
  /** Exactly one key source. */
  jwksFile?: string;
  jwksUrl?: string;
  secretEnv?: string;
  issuer?: string;
  audience?: string;
  algorithms?: string[];
  /** claim name → span attribute name, e.g. {sub: enduser.id}. */
  claims: Record<string, string>;
  jwksTimeoutMs: number;
  /** Verified tokens remembered (enrich/jwt.ts); 0 verifies every request's token afresh. */
  cacheSize: number;
}

export interface DenyRule {
  name: string;
  pathPrefix: string;
  methods?: string[];
  /** Deny only when the request lacks a verified JWT (otherwise deny unconditionally). */
  unlessVerifiedJwt: boolean;
  status: number;
}

export interface ServiceConfig {
  listen: { host: string; port: number };
  mode: Mode;
  metadataNamespace: string;
  serviceName: string;
  otlp: { endpoint?: string; maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number };
  propagation: { extract: TraceFormat[]; inject: TraceFormat[] };
  /** The shared `sampling` section (core/sampling/README.md). */
  sampling: SamplingConfig;
  enrich: {
    headers: string[];
    maxValueBytes: number;
    redactQueryParams: string[];
    jwt?: JwtConfig;
    graphql?: { paths: string[]; maxBodyBytes: number };
  };
  authz: { deny: DenyRule[] };
  metrics: { port?: number; host: string };
  shutdown: { drainMs: number };
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
}

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    source = 'config',
  ) {
    super(`${source}: ${field}: ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Headers that carry credentials: never copied into spans or metadata, whatever the allow-list says. */
export const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
]);

export const DEFAULT_REDACTED_PARAMS = [
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'api_key',
  'apikey',
  'key',
  'password',
  'secret',
  'signature',
  'sig',
  'code',
];

const FORMATS: readonly string[] = TRACE_FORMATS;

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly source: string) {}

  fail(field: string, problem: string): never {
    throw new ConfigError(field, problem, this.source);
  }

  object(v: unknown, field: string, keys: string[]): Obj {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, `must be a mapping, got ${describe(v)}`);
    for (const k of Object.keys(v as Obj)) {
      if (!keys.includes(k))
        this.fail(field ? `${field}.${k}` : k, `unknown field (expected one of: ${keys.join(', ')})`);
    }
    return v as Obj;
  }

  string(v: unknown, field: string, def?: string): string {
    if (v === undefined) {
      if (def === undefined) this.fail(field, 'is required');
      return def;
    }
    if (typeof v !== 'string' || v.length === 0) this.fail(field, `must be a non-empty string, got ${describe(v)}`);
    return v;
  }

  optString(v: unknown, field: string): string | undefined {
    return v === undefined ? undefined : this.string(v, field);
  }

  int(v: unknown, field: string, def: number, min: number, max: number): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.fail(field, `must be an integer in [${min}, ${max}], got ${describe(v)}`);
    return v;
  }

  bool(v: unknown, field: string, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${describe(v)}`);
    return v;
  }

  strings(v: unknown, field: string, def: string[]): string[] {
    if (v === undefined) return def;
    if (!Array.isArray(v)) this.fail(field, `must be a list of strings, got ${describe(v)}`);
    return v.map((s, i) => this.string(s, `${field}[${i}]`));
  }

  oneOf<T extends string>(v: unknown, field: string, options: readonly T[], def: T): T {
    if (v === undefined) return def;
    if (typeof v !== 'string' || !options.includes(v as T))
      this.fail(field, `must be one of ${options.join(', ')}, got ${describe(v)}`);
    return v as T;
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Validates and normalises a parsed config object. `source` names the file in errors. */
export function normaliseConfig(raw: unknown, source = 'config'): ServiceConfig {
  const r = new Reader(source);
  const top = r.object(raw, '', [
    'listen',
    'mode',
    'metadataNamespace',
    'serviceName',
    'otlp',
    'propagation',
    'sampling',
    'enrich',
    'authz',
    'metrics',
    'shutdown',
    'log',
  ]);
  const listen = r.object(top.listen, 'listen', ['host', 'port']);
  const otlp = r.object(top.otlp, 'otlp', ['endpoint', 'maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMs']);
  const prop = r.object(top.propagation, 'propagation', ['extract', 'inject']);
  const enrich = r.object(top.enrich, 'enrich', ['headers', 'maxValueBytes', 'redactQueryParams', 'jwt', 'graphql']);
  const authz = r.object(top.authz, 'authz', ['deny']);
  const metrics = r.object(top.metrics, 'metrics', ['port', 'host']);
  const shutdown = r.object(top.shutdown, 'shutdown', ['drainMs']);
  const log = r.object(top.log, 'log', ['level']);

  const endpoint = r.optString(otlp.endpoint, 'otlp.endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    r.fail('otlp.endpoint', `must be an http(s) URL such as http://127.0.0.1:4318/v1/traces, got "${endpoint}"`);

  const formats = (field: string, v: unknown, def: string[]) => {
    const list = r.strings(v, field, def);
    list.forEach((f, i) => {
      if (!FORMATS.includes(f))
        r.fail(`${field}[${i}]`, `unknown format "${f}" (expected one of: ${FORMATS.join(', ')})`);
    });
    if (list.length === 0) r.fail(field, 'must name at least one format');
    return list as TraceFormat[];
  };

  const headers = r.strings(enrich.headers, 'enrich.headers', []).map((h, i) => {
    const name = h.toLowerCase();
    if (SECRET_HEADERS.has(name))
      r.fail(`enrich.headers[${i}]`, `"${h}" carries credentials and is never recorded; remove it from the allow-list`);
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) r.fail(`enrich.headers[${i}]`, `"${h}" is not a valid header name`);
    return name;
  });

  const cfg: ServiceConfig = {
    listen: {
      host: r.string(listen.host, 'listen.host', '127.0.0.1'),
      port: r.int(listen.port, 'listen.port', 9001, 0, 65535),
    },
    mode: r.oneOf(top.mode, 'mode', ['span', 'metadata'] as const, 'span'),
    metadataNamespace: r.string(top.metadataNamespace, 'metadataNamespace', 'meshtrace'),
    serviceName: r.string(top.serviceName, 'serviceName', 'meshtrace-ext'),
    otlp: {
      endpoint,
      maxQueueSize: r.int(otlp.maxQueueSize, 'otlp.maxQueueSize', 2048, 1, 1_000_000),
      maxExportBatchSize: r.int(otlp.maxExportBatchSize, 'otlp.maxExportBatchSize', 512, 1, 100_000),
      scheduledDelayMs: r.int(otlp.scheduledDelayMs, 'otlp.scheduledDelayMs', 500, 1, 60_000),
    },
    propagation: {
      extract: formats('propagation.extract', prop.extract, ['w3c', 'b3', 'b3multi']),
      inject: formats('propagation.inject', prop.inject, ['w3c']),
    },
    sampling: readSampling(r, top.sampling),
    enrich: {
      headers,
      maxValueBytes: r.int(enrich.maxValueBytes, 'enrich.maxValueBytes', 256, 1, 8192),
      redactQueryParams: r
        .strings(enrich.redactQueryParams, 'enrich.redactQueryParams', DEFAULT_REDACTED_PARAMS)
        .map((p) => p.toLowerCase()),
      jwt: enrich.jwt === undefined ? undefined : readJwt(r, enrich.jwt),
      graphql: enrich.graphql === undefined ? undefined : readGraphql(r, enrich.graphql),
    },
    authz: { deny: readDeny(r, authz.deny) },
    metrics: {
      port: metrics.port === undefined ? undefined : r.int(metrics.port, 'metrics.port', 0, 0, 65535),
      host: r.string(metrics.host, 'metrics.host', '127.0.0.1'),
    },
    shutdown: { drainMs: r.int(shutdown.drainMs, 'shutdown.drainMs', 5000, 0, 600_000) },
    log: { level: r.oneOf(log.level, 'log.level', ['debug', 'info', 'warn', 'error'] as const, 'info') },
  };
  if (cfg.otlp.maxExportBatchSize > cfg.otlp.maxQueueSize)
    r.fail(
      'otlp.maxExportBatchSize',
      `(${cfg.otlp.maxExportBatchSize}) must not exceed otlp.maxQueueSize (${cfg.otlp.maxQueueSize})`,
    );
  return cfg;
}

function readSampling(r: Reader, v: unknown): SamplingConfig {
  try {
    return parseSamplingConfig(v, 'sampling');
  } catch (err) {
    if (!(err instanceof SamplingConfigError)) throw err;
    // The shared parser already words each problem as `<path>: <what>`; report the first.
    const [first = 'sampling: invalid'] = err.problems;
    const colon = first.indexOf(': ');
    r.fail(first.slice(0, colon), first.slice(colon + 2));
  }
}

function readJwt(r: Reader, v: unknown): JwtConfig {
  const j = r.object(v, 'enrich.jwt', [
    'header',
    'jwksFile',
    'jwksUrl',
    'secretEnv',
    'issuer',
    'audience',
    'algorithms',
    'claims',
    'jwksTimeoutMs',
    'cacheSize',
  ]);
  const sources = (['jwksFile', 'jwksUrl', 'secretEnv'] as const).filter((k) => j[k] !== undefined);
  if (sources.length !== 1)
    r.fail('enrich.jwt', `needs exactly one key source of jwksFile, jwksUrl, secretEnv (got ${sources.length})`);
  const claimsRaw =
    j.claims === undefined
      ? { sub: 'enduser.id' }
      : r.object(j.claims, 'enrich.jwt.claims', isObj(j.claims) ? Object.keys(j.claims) : []);
  const claims: Record<string, string> = {};
  for (const [k, name] of Object.entries(claimsRaw)) claims[k] = r.string(name, `enrich.jwt.claims.${k}`);
  const header = r.string(j.header, 'enrich.jwt.header', 'authorization').toLowerCase();
  return {
    header,
    jwksFile: r.optString(j.jwksFile, 'enrich.jwt.jwksFile'),
    jwksUrl: r.optString(j.jwksUrl, 'enrich.jwt.jwksUrl'),
    secretEnv: r.optString(j.secretEnv, 'enrich.jwt.secretEnv'),
    issuer: r.optString(j.issuer, 'enrich.jwt.issuer'),
    audience: r.optString(j.audience, 'enrich.jwt.audience'),
    algorithms: j.algorithms === undefined ? undefined : r.strings(j.algorithms, 'enrich.jwt.algorithms', []),
    claims,
    jwksTimeoutMs: r.int(j.jwksTimeoutMs, 'enrich.jwt.jwksTimeoutMs', 1000, 1, 60_000),
    cacheSize: r.int(j.cacheSize, 'enrich.jwt.cacheSize', 1024, 0, 100_000),
  };
}

function readGraphql(r: Reader, v: unknown) {
  const g = r.object(v, 'enrich.graphql', ['paths', 'maxBodyBytes']);
  return {
    paths: r.strings(g.paths, 'enrich.graphql.paths', ['/graphql']),
    maxBodyBytes: r.int(g.maxBodyBytes, 'enrich.graphql.maxBodyBytes', 65536, 1, 4 * 1024 * 1024),
  };
}

function readDeny(r: Reader, v: unknown): DenyRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) r.fail('authz.deny', `must be a list of rules, got ${describe(v)}`);
  return v.map((item, i) => {
    const f = `authz.deny[${i}]`;
    const d = r.object(item, f, ['name', 'pathPrefix', 'methods', 'unlessVerifiedJwt', 'status']);
    const pathPrefix = r.string(d.pathPrefix, `${f}.pathPrefix`);
    if (!pathPrefix.startsWith('/')) r.fail(`${f}.pathPrefix`, `must start with "/", got "${pathPrefix}"`);
    return {
      name: r.string(d.name, `${f}.name`, `rule-${i}`),
      pathPrefix,
      methods:
        d.methods === undefined ? undefined : r.strings(d.methods, `${f}.methods`, []).map((m) => m.toUpperCase()),
      unlessVerifiedJwt: r.bool(d.unlessVerifiedJwt, `${f}.unlessVerifiedJwt`, false),
      status: r.int(d.status, `${f}.status`, 403, 400, 599),
    };
  });
}

/** Reads and validates a YAML (or JSON) config file. */
export function loadConfigFile(path: string): ServiceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read: ${(err as Error).message}`, path);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError('(syntax)', (err as Error).message.split('\n')[0] ?? 'invalid YAML', path);
  }
  return normaliseConfig(raw ?? {}, path);
}
