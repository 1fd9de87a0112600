// A load-balancing proxy stage: picks an upstream endpoint (round-robin or least-pending),
// forwards the request, and on a retryable failure fails over to another endpoint. Each attempt
// is its own CLIENT span (child of the gateway's SERVER span) carrying the attempt number, the
// endpoint and the outcome, and each attempt's request carries that span as its parent.
//
//   SERVER  GET /orders ───────────────────────────────────────────────┤ 200
//     CLIENT attempt 1 → :8081 ──┤ connect_error          (retry, next endpoint)
//     CLIENT attempt 2 → :8082      ──────────────────────┤ ok 200
//
// The request body is buffered (bounded by max_body_bytes) so it can be replayed on a retry.
// A non-idempotent method is only retried when the request never reached the upstream.
import { Agent, type IncomingMessage, type OutgoingHttpHeaders, request, type ServerResponse } from 'node:http';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError } from '../../core/sampling/index.ts';
import { displayPath } from '../../core/sampling/schema.ts';
import { type AttemptOutcome, type RequestTrace, traceOf } from './request-trace.ts';

export type RetryOn = 'connect_error' | 'timeout' | 'reset' | '5xx';

export interface LoadBalancerConfig {
  endpoints: URL[];
  strategy: 'round-robin' | 'least-pending';
  retries: number;
  retryOn: ReadonlySet<RetryOn>;
  attemptTimeoutMs: number;
  maxBodyBytes: number;
}

export const loadBalancerSchema = {
  $id: 'https://meshtrace.dev/schemas/load-balancer.json',
  type: 'object',
  additionalProperties: false,
  required: ['endpoints'],
  properties: {
    endpoints: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', pattern: '^http://[^/?#]+/?$' } },
    strategy: { enum: ['round-robin', 'least-pending'] },
    retries: { type: 'integer', minimum: 0, maximum: 10 },
    retry_on: { type: 'array', uniqueItems: true, items: { enum: ['connect_error', 'timeout', 'reset', '5xx'] } },
    attempt_timeout_ms: { type: 'integer', minimum: 1, maximum: 600000 },
    max_body_bytes: { type: 'integer', minimum: 0, maximum: 104857600 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(loadBalancerSchema);

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
  if (e.keyword === 'pattern') return `${path}: must be an http://host:port URL without a path`;
  return `${path}: ${e.message ?? e.keyword}`;
}

export function parseLoadBalancerConfig(raw: unknown, base: string): LoadBalancerConfig {
  if (!validate(raw as unknown)) {
    throw new ConfigError((validate.errors ?? []).map((e) => describe(e, base)));
  }
  const r = raw as Record<string, unknown>;
  return {
    endpoints: (r['endpoints'] as string[]).map((e) => new URL(e)),
    strategy: (r['strategy'] as LoadBalancerConfig['strategy']) ?? 'round-robin',
    retries: (r['retries'] as number) ?? 1,
    retryOn: new Set((r['retry_on'] as RetryOn[]) ?? ['connect_error', 'timeout', 'reset', '5xx']),
    attemptTimeoutMs: (r['attempt_timeout_ms'] as number) ?? 15000,
    maxBodyBytes: (r['max_body_bytes'] as number) ?? 1048576,
  };
}

// RFC 9110 §7.6.1: connection-specific fields are not forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

type AttemptResult =
  | { kind: 'response'; upstream: IncomingMessage }
  | { kind: 'failed'; error: 'connect_error' | 'timeout' | 'reset'; sent: boolean };

export class LoadBalancer {
  private next = 0;
  private readonly pending: number[];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(readonly config: LoadBalancerConfig) {
    this.pending = config.endpoints.map(() => 0);
  }

  /** Index of the endpoint for the next attempt, avoiding `tried` while others remain. */
  pick(tried: ReadonlySet<number>): number {
    const n = this.config.endpoints.length;
    const candidates = [...Array(n).keys()].filter((i) => !tried.has(i));
    const pool = candidates.length > 0 ? candidates : [...Array(n).keys()];
    if (this.config.strategy === 'least-pending') {
      // Ties broken round-robin so equal loads still spread.
      const start = this.next++ % n;
      let best = pool[0]!;
      for (const i of pool) {
        const better = this.pending[i]! < this.pending[best]!;
        const tieCloser = this.pending[i] === this.pending[best] && (i - start + n) % n < (best - start + n) % n;
        if (better || tieCloser) best = i;
      }
      return best;
    }
    for (let k = 0; k < n; k++) {
      const i = this.next++ % n;
      if (pool.includes(i)) return i;
    }
    return pool[0]!;
  }

  /** Proxies `req` to the upstreams; `trace` (or the one a tracing stage attached) gets attempt spans. */
  handle(req: IncomingMessage, res: ServerResponse, trace: RequestTrace | null = traceOf(req) ?? null): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.config.maxBodyBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.statusCode = 413;
        res.end('request body too large for a retryable proxy');
        return;
      }
      void this.run(req, res, Buffer.concat(chunks), trace);
    });
    req.on('error', () => res.destroy());
  }

  private async run(req: IncomingMessage, res: ServerResponse, body: Buffer, trace: RequestTrace | null) {
    const tried = new Set<number>();
    const maxAttempts = 1 + this.config.retries;
    let lastError: 'connect_error' | 'timeout' | 'reset' | null = null;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (res.destroyed) return;
      const i = this.pick(tried);
      tried.add(i);
      const endpoint = this.config.endpoints[i]!;
      const span = trace?.startAttempt(attempt, endpoint.origin) ?? null;
      this.pending[i]!++;
      const result = await this.attempt(req, body, endpoint, span?.headers ?? []);
      const last = attempt === maxAttempts;
      if (result.kind === 'response') {
        const status = result.upstream.statusCode ?? 502;
        const retry = !last && status >= 500 && this.config.retryOn.has('5xx') && IDEMPOTENT.has(req.method ?? 'GET');
        if (retry) {
          result.upstream.resume();
          result.upstream.once('end', () => this.pending[i]!--);
          span?.end({ status });
          continue;
        }
        this.relay(result.upstream, res, span ? (o) => span.end(o) : null, () => this.pending[i]!--, trace);
        return;
      }
      this.pending[i]!--;
      span?.end({ status: 0, error: result.error });
      lastError = result.error;
      const retryable = this.config.retryOn.has(result.error) && (!result.sent || IDEMPOTENT.has(req.method ?? 'GET'));
      if (!retryable || last) break;
    }
    if (trace && lastError) trace.proxyError = lastError;
    if (!res.headersSent) {
      res.statusCode = lastError === 'timeout' ? 504 : 502;
      res.setHeader('content-type', 'text/plain');
      res.end(lastError === 'timeout' ? 'upstream timed out' : 'bad gateway');
    } else res.destroy();
  }

  private attempt(req: IncomingMessage, body: Buffer, endpoint: URL, traceHeaders: [string, string][]) {
    return new Promise<AttemptResult>((resolve) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
      for (const [k, v] of traceHeaders) headers[k] = v;
      headers['content-length'] = String(body.length);
      let settled = false;
      let sent = false;
      const settle = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const up = request({
        host: endpoint.hostname,
        port: endpoint.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      });
      const timer = setTimeout(() => {
        settle({ kind: 'failed', error: 'timeout', sent: true });
        up.destroy();
      }, this.config.attemptTimeoutMs);
      up.once('socket', (s) => {
        if (!s.connecting) sent = true;
        else s.once('connect', () => (sent = true));
      });
      up.once('response', (upstream) => settle({ kind: 'response', upstream }));
      up.once('error', (err: NodeJS.ErrnoException) => {
        const connect = !sent && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET'].includes(err.code ?? '');
        settle({ kind: 'failed', error: connect ? 'connect_error' : 'reset', sent });
      });
      up.end(body);
    });
  }

  private relay(
    upstream: IncomingMessage,
    res: ServerResponse,
    endSpan: ((o: AttemptOutcome) => void) | null,
    release: () => void,
    trace: RequestTrace | null,
  ) {
    const status = upstream.statusCode ?? 502;
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(upstream.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v as string | string[]);
    res.statusCode = status;
    let finished = false;
    upstream.once('end', () => {
      finished = true;
      release();
      endSpan?.({ status });
    });
    upstream.once('error', () => {
      if (!finished) {
        release();
        if (trace) trace.proxyError = 'reset';
        endSpan?.({ status, error: 'reset' });
        res.destroy();
      }
    });
    upstream.pipe(res);
  }

  close(): void {
    this.agent.destroy();
  }
}
