// One proxied request's trace at the gateway, shared by the express-gateway policies and the
// plain Express middleware:
//
//   1. extract the inbound context (core/trace-context, configured formats, precedence order)
//   2. trust boundary (core/sampling/trust.ts): parent, link, or a new root
//   3. head decision from the trace id (core/sampling EdgeSampler)
//   4. SERVER span; inbound trace headers and the debug token are removed from the request and
//      the outbound context (our span as parent, head flag, ot=th) is injected instead
//   5. `traceresponse` on the response
//   6. on finish/close: final decision (error / latency), status, end — held children
//      (one CLIENT span per upstream attempt) go out with it or not at all
//
// Tracing never fails a request: any exception here is counted and the request proceeds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context, type Link, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { KEPT_BY, startTracing, type Tracing, withSpanTraceState } from '../../core/otel/index.ts';
import { assessTrust, EdgeSampler, type HeadDecision, type SamplingRequest } from '../../core/sampling/index.ts';
import {
  extract,
  formatTraceresponse,
  headersFromNode,
  inject,
  isTraceHeader,
  type TraceContext,
} from '../../core/trace-context/index.ts';
import { fastSpanId as newSpanId, fastTraceId as newTraceId } from './random-ids.ts';
import type { GatewaySettings } from './settings.ts';

export interface RequestInfo {
  /** Route template or API endpoint path (http.route). */
  route?: string;
  /** express-gateway apiEndpoint name. */
  apiEndpoint?: string;
  /** express-gateway pipeline name. */
  pipeline?: string;
  /**
   * Authenticated consumer (user or app) — ids only, never credentials. Read when the span
   * ends, because authentication stages usually run after the tracing stage.
   */
  consumer?: () => { id: string; type?: string } | undefined;
}

export interface AttemptOutcome {
  status: number;
  error?: 'timeout' | 'connect_error' | 'reset';
}

export interface Attempt {
  /** Trace headers for this attempt's upstream request (this attempt's span as parent). */
  headers: [string, string][];
  end(outcome: AttemptOutcome): void;
}

export interface RequestTrace {
  traceId: string;
  /** This hop's span id (the upstream's parent when there are no attempt spans). */
  spanId: string;
  head: HeadDecision;
  /** Set by a proxy stage when the upstream failed in a way the status alone does not say. */
  proxyError?: 'timeout' | 'connect_error' | 'reset';
  /** Starts a CLIENT span for one upstream attempt (1-based) to `endpoint`. */
  startAttempt(attempt: number, endpoint: string): Attempt;
}

type Attrs = Record<string, string | number | boolean>;

/**
 * A span recorded as plain data and turned into an OpenTelemetry span only if the request is
 * kept: most requests are dropped at realistic rates, and they then cost no SDK span at all.
 */
interface PendingSpan {
  spanId: string;
  name: string;
  startMs: number;
  endMs: number | null;
  attributes: Attrs;
  error: string | null;
}

export interface GatewayCounters {
  tracingErrors: number;
  invalidInbound: Record<string, number>;
  tokenRejected: Record<string, number>;
}

// The request's trace lives on the request itself, not in a WeakMap keyed by it: V8's scavenger
// keeps an old-space WeakMap's *values* alive while their young keys are, and a RequestTrace
// reaches its request through its closures, so every request graph survived the young
// generation and was promoted (promoted bytes 7.6 → 18.4 KB per request in bench:gateway,
// scavenge time ×2.5, mark-compacts ×3). A symbol-keyed property dies with the request.
const TRACE = Symbol('meshtrace.requestTrace');
type TracedRequest = IncomingMessage & { [TRACE]?: RequestTrace };
/** Attempt spans kept per request (retries are capped at 10; this bounds a misuse). */
const MAX_ATTEMPT_SPANS = 16;

function links(attach: 'parent' | 'link' | 'none', inbound: TraceContext | null): Link[] {
  if (attach !== 'link' || inbound === null) return [];
  return [
    {
      context: {
        traceId: inbound.traceId,
        spanId: inbound.spanId,
        traceFlags: inbound.sampled ? 1 : 0,
        isRemote: true,
      },
      attributes: { 'meshtrace.link.reason': 'untrusted_inbound_context' },
    },
  ];
}

/** The trace a previous stage started for `req`, if any. */
export function traceOf(req: IncomingMessage): RequestTrace | undefined {
  return (req as TracedRequest)[TRACE];
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class GatewayTracer {
  readonly tracing: Tracing;
  readonly sampler: EdgeSampler;
  readonly counters: GatewayCounters = { tracingErrors: 0, invalidInbound: {}, tokenRejected: {} };

  constructor(readonly settings: GatewaySettings) {
    this.sampler = new EdgeSampler(settings.sampling);
    this.tracing = startTracing({
      serviceName: settings.serviceName,
      otlpUrl: settings.otlpUrl,
      maxQueueSize: settings.export.maxQueueSize,
      maxExportBatchSize: settings.export.maxBatchSize,
      scheduledDelayMs: settings.export.flushIntervalMs,
      exportTimeoutMs: settings.export.timeoutMs,
    });
  }

  /** Starts tracing `req` (idempotent); null when tracing itself failed (counted, request unaffected). */
  begin(req: IncomingMessage, res: ServerResponse, info: RequestInfo = {}): RequestTrace | null {
    const existing = (req as TracedRequest)[TRACE];
    if (existing) return existing;
    try {
      const t = this.start(req, res, info);
      (req as TracedRequest)[TRACE] = t;
      return t;
    } catch {
      this.counters.tracingErrors++;
      return null;
    }
  }

  private start(req: IncomingMessage, res: ServerResponse, info: RequestInfo): RequestTrace {
    const started = Date.now();
    const s = this.settings;
    const header = (name: string) => firstHeader(req, name);
    const ex = extract(headersFromNode(req.headers), s.inbound);
    for (const r of ex.reasons) this.counters.invalidInbound[r] = (this.counters.invalidInbound[r] ?? 0) + 1;
    const inbound = ex.valid ? ex.context : null;
    const verdict = assessTrust(s.sampling.trust, inbound ? { valid: true, ...inbound } : null, header, started);
    if (verdict.tokenRejected) {
      this.counters.tokenRejected[verdict.tokenRejected] =
        (this.counters.tokenRejected[verdict.tokenRejected] ?? 0) + 1;
    }
    const asParent = verdict.attach === 'parent' && inbound !== null;
    const traceId = asParent ? inbound.traceId : newTraceId();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const sreq: SamplingRequest = {
      method: req.method ?? 'GET',
      path,
      authority: header('host') ?? '',
      header,
      traceId,
      parent: verdict.honoured,
      trusted: verdict.trusted,
      ...(verdict.debugTokenSubject === undefined ? {} : { debugTokenSubject: verdict.debugTokenSubject }),
      route: info.apiEndpoint ?? info.route ?? path,
      service: s.serviceName,
      nowMs: started,
    };
    const head = this.sampler.head(sreq);
    const spanId = newSpanId();
    const random = asParent ? inbound.random : true;
    const attributes: Attrs = {
      'http.request.method': sreq.method,
      'url.path': path,
      'url.scheme': 'http',
      'server.address': sreq.authority.replace(/:\d+$/, ''),
      'meshtrace.sampling.trusted': verdict.trusted,
    };
    const ua = header('user-agent');
    if (ua) attributes['user_agent.original'] = ua.slice(0, 256);
    if (info.route) attributes['http.route'] = info.route;
    if (info.apiEndpoint) attributes['eg.api_endpoint'] = info.apiEndpoint;
    if (info.pipeline) attributes['eg.pipeline'] = info.pipeline;
    if (ex.valid) attributes['meshtrace.inbound.format'] = ex.format;
    if (verdict.debugTokenSubject) attributes['meshtrace.debug.subject'] = verdict.debugTokenSubject;
    const server: PendingSpan = {
      spanId,
      name: `${sreq.method} ${info.route ?? info.apiEndpoint ?? path}`,
      startMs: started,
      endMs: null,
      attributes,
      error: null,
    };
    const attempts: PendingSpan[] = [];
    const outbound = (parentSpanId: string): [string, string][] =>
      inject(
        {
          traceId,
          spanId: parentSpanId,
          sampled: head.sampled,
          debug: head.keptBy === 'debug',
          random,
          tracestate: head.tracestate,
          baggage: inbound?.baggage ?? [],
        },
        s.outbound,
      );

    // The upstream must see our context only: drop every inbound trace header and the token.
    for (const name of Object.keys(req.headers)) if (isTraceHeader(name)) delete req.headers[name];
    if (s.sampling.trust.tokenHeader !== null) delete req.headers[s.sampling.trust.tokenHeader];
    for (const [k, v] of outbound(spanId)) req.headers[k] = v;
    if (!res.headersSent) {
      res.setHeader(
        'traceresponse',
        formatTraceresponse({ traceId, spanId, sampled: head.sampled, debug: false, random }),
      );
    }

    const rt: RequestTrace = {
      traceId,
      spanId,
      head,
      startAttempt: (attempt, endpoint) => {
        const u = new URL(endpoint);
        const pending: PendingSpan = {
          spanId: newSpanId(),
          name: `attempt ${attempt} ${u.host}`,
          startMs: Date.now(),
          endMs: null,
          attributes: {
            'meshtrace.attempt': attempt,
            'http.request.resend_count': attempt - 1,
            'server.address': u.hostname,
            'server.port': Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
            'url.full': endpoint,
          },
          error: null,
        };
        if (attempts.length < MAX_ATTEMPT_SPANS) attempts.push(pending);
        return {
          headers: outbound(pending.spanId),
          end: (o) => {
            if (pending.endMs !== null) return;
            pending.endMs = Date.now();
            const outcome = o.error ?? (o.status >= 500 ? 'http_error' : 'ok');
            pending.attributes['meshtrace.attempt.outcome'] = outcome;
            if (o.status > 0) pending.attributes['http.response.status_code'] = o.status;
            if (outcome !== 'ok') {
              pending.attributes['error.type'] = o.error ?? String(o.status);
              pending.error = outcome;
            }
          },
        };
      },
    };
    let ended = false;
    const end = (reset: boolean) => {
      if (ended) return;
      ended = true;
      try {
        const now = Date.now();
        const status = reset && !res.headersSent ? 0 : res.statusCode;
        const final = this.sampler.final(sreq, head, {
          status,
          reset: reset || rt.proxyError !== undefined,
          durationMs: now - started,
        });
        if (!final.sampled || final.keptBy === null) return;
        server.endMs = now;
        const consumer = info.consumer?.();
        if (consumer?.id) {
          attributes['eg.consumer.id'] = String(consumer.id).slice(0, 256);
          if (consumer.type) attributes['eg.consumer.type'] = String(consumer.type).slice(0, 64);
        }
        if (status > 0) attributes['http.response.status_code'] = status;
        if (status >= 500 || status === 0 || rt.proxyError !== undefined) {
          server.error = rt.proxyError ?? (status === 0 ? 'reset' : String(status));
          attributes['error.type'] = server.error;
        }
        attributes[KEPT_BY] = final.keptBy;
        this.emit(
          traceId,
          server,
          attempts,
          head.tracestate,
          asParent ? inbound : null,
          links(verdict.attach, inbound),
        );
      } catch {
        this.counters.tracingErrors++;
      }
    };
    res.once('finish', () => end(false));
    res.once('close', () => end(!res.writableFinished));
    return rt;
  }

  /** Materialises a kept request's spans: the SERVER span, then its attempts as children. */
  private emit(
    traceId: string,
    server: PendingSpan,
    attempts: PendingSpan[],
    tracestate: string,
    parent: TraceContext | null,
    spanLinks: Link[],
  ): void {
    const tracer = this.tracing.tracer;
    let ctx: Context = ROOT_CONTEXT;
    if (parent !== null) {
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.sampled ? 1 : 0,
        isRemote: true,
      });
    }
    ctx = withSpanTraceState(ctx, tracestate);
    this.tracing.presetIds(parent === null ? traceId : null, server.spanId);
    const span = tracer.startSpan(
      server.name,
      { kind: SpanKind.SERVER, attributes: server.attributes, links: spanLinks, startTime: server.startMs },
      ctx,
    );
    const childCtx = trace.setSpan(ctx, span);
    for (const a of attempts) {
      this.tracing.presetIds(null, a.spanId);
      const child = tracer.startSpan(
        a.name,
        { kind: SpanKind.CLIENT, attributes: a.attributes, startTime: a.startMs },
        childCtx,
      );
      if (a.endMs === null) {
        // The downstream went away while this attempt was still running.
        child.setAttribute('meshtrace.attempt.outcome', 'cancelled');
        child.setStatus({ code: SpanStatusCode.ERROR, message: 'cancelled' });
      } else if (a.error !== null) child.setStatus({ code: SpanStatusCode.ERROR, message: a.error });
      child.end(a.endMs ?? server.endMs ?? Date.now());
    }
    if (server.error !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: server.error });
    span.end(server.endMs ?? Date.now());
  }

  /** Every counter, for an admin endpoint or a metrics exporter. */
  snapshot() {
    const otel = this.tracing.counters();
    return {
      sampling: this.sampler.counters,
      cost_cap_dropped: Object.fromEntries(this.sampler.costCap?.dropped ?? []),
      invalid_inbound: this.counters.invalidInbound,
      debug_token_rejected: this.counters.tokenRejected,
      tracing_errors: this.counters.tracingErrors,
      export: otel.export,
      held: otel.decisions,
    };
  }

  shutdown(): Promise<void> {
    return this.tracing.shutdown();
  }
}
