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
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { KEPT_BY, startTracing, type Tracing, withSpanTraceState } from '../../core/otel/index.ts';
import { assessTrust, EdgeSampler, type HeadDecision, type SamplingRequest } from '../../core/sampling/index.ts';
import {
  extract,
  formatTraceresponse,
  headersFromNode,
  inject,
  isTraceHeader,
  newTraceId,
  type TraceContext,
} from '../../core/trace-context/index.ts';
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
  span: Span;
  head: HeadDecision;
  /** Set by a proxy stage when the upstream failed in a way the status alone does not say. */
  proxyError?: 'timeout' | 'connect_error' | 'reset';
  /** Starts a CLIENT span for one upstream attempt (1-based) to `endpoint`. */
  startAttempt(attempt: number, endpoint: string): Attempt;
}

export interface GatewayCounters {
  tracingErrors: number;
  invalidInbound: Record<string, number>;
  tokenRejected: Record<string, number>;
}

const traces = new WeakMap<IncomingMessage, RequestTrace>();

/** The trace a previous stage started for `req`, if any. */
export function traceOf(req: IncomingMessage): RequestTrace | undefined {
  return traces.get(req);
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
    const existing = traces.get(req);
    if (existing) return existing;
    try {
      const t = this.start(req, res, info);
      traces.set(req, t);
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

    let ctx: Context = ROOT_CONTEXT;
    const links: Link[] = [];
    if (asParent) {
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: inbound.traceId,
        spanId: inbound.spanId,
        traceFlags: inbound.sampled ? 1 : 0,
        isRemote: true,
      });
    } else {
      if (verdict.attach === 'link' && inbound !== null) {
        links.push({
          context: {
            traceId: inbound.traceId,
            spanId: inbound.spanId,
            traceFlags: inbound.sampled ? 1 : 0,
            isRemote: true,
          },
          attributes: { 'meshtrace.link.reason': 'untrusted_inbound_context' },
        });
      }
      this.tracing.presetTraceId(traceId);
    }
    ctx = withSpanTraceState(ctx, head.tracestate);
    const attributes: Record<string, string | number | boolean> = {
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
    const span = this.tracing.tracer.startSpan(
      `${sreq.method} ${info.route ?? info.apiEndpoint ?? path}`,
      { kind: SpanKind.SERVER, attributes, links, startTime: started },
      ctx,
    );
    const spanCtx = trace.setSpan(ctx, span);
    const own = span.spanContext();
    const random = asParent ? inbound.random : true;
    const outbound = (spanId: string): [string, string][] => {
      const c: TraceContext = {
        traceId: own.traceId,
        spanId,
        sampled: head.sampled,
        debug: head.keptBy === 'debug',
        random,
        tracestate: head.tracestate,
        baggage: inbound?.baggage ?? [],
      };
      return inject(c, s.outbound);
    };

    // The upstream must see our context only: drop every inbound trace header and the token.
    for (const name of Object.keys(req.headers)) if (isTraceHeader(name)) delete req.headers[name];
    if (s.sampling.trust.tokenHeader !== null) delete req.headers[s.sampling.trust.tokenHeader];
    for (const [k, v] of outbound(own.spanId)) req.headers[k] = v;
    try {
      res.setHeader(
        'traceresponse',
        formatTraceresponse({ traceId: own.traceId, spanId: own.spanId, sampled: head.sampled, debug: false, random }),
      );
    } catch {
      // headers already sent by an earlier stage: nothing to add
    }

    const rt: RequestTrace = {
      traceId: own.traceId,
      span,
      head,
      startAttempt: (attempt, endpoint) => this.attempt(spanCtx, outbound, attempt, endpoint),
    };
    let ended = false;
    const end = (reset: boolean) => {
      if (ended) return;
      ended = true;
      try {
        const status = reset && !res.headersSent ? 0 : res.statusCode;
        const durationMs = Date.now() - started;
        const final = this.sampler.final(sreq, head, {
          status,
          reset: reset || rt.proxyError !== undefined,
          durationMs,
        });
        const consumer = info.consumer?.();
        if (consumer?.id) {
          span.setAttribute('eg.consumer.id', String(consumer.id).slice(0, 256));
          if (consumer.type) span.setAttribute('eg.consumer.type', String(consumer.type).slice(0, 64));
        }
        if (status > 0) span.setAttribute('http.response.status_code', status);
        const failed = status >= 500 || status === 0 || rt.proxyError !== undefined;
        if (failed) {
          const type = rt.proxyError ?? (status === 0 ? 'reset' : String(status));
          span.setAttribute('error.type', type);
          span.setStatus({ code: SpanStatusCode.ERROR, message: type });
        }
        if (final.sampled && final.keptBy !== null) span.setAttribute(KEPT_BY, final.keptBy);
        else if (final.droppedBy !== null) span.setAttribute('meshtrace.sampling.dropped_by', final.droppedBy);
        span.end();
      } catch {
        this.counters.tracingErrors++;
      }
    };
    res.once('finish', () => end(false));
    res.once('close', () => end(!res.writableFinished));
    return rt;
  }

  private attempt(
    parent: Context,
    outbound: (spanId: string) => [string, string][],
    attempt: number,
    endpoint: string,
  ): Attempt {
    const u = new URL(endpoint);
    const span = this.tracing.tracer.startSpan(
      `attempt ${attempt} ${u.host}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'meshtrace.attempt': attempt,
          'http.request.resend_count': attempt - 1,
          'server.address': u.hostname,
          'server.port': Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
          'url.full': endpoint,
        },
      },
      parent,
    );
    let done = false;
    return {
      headers: outbound(span.spanContext().spanId),
      end: (o) => {
        if (done) return;
        done = true;
        const outcome = o.error ?? (o.status >= 500 ? 'http_error' : 'ok');
        span.setAttribute('meshtrace.attempt.outcome', outcome);
        if (o.status > 0) span.setAttribute('http.response.status_code', o.status);
        if (outcome !== 'ok') {
          span.setAttribute('error.type', o.error ?? String(o.status));
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        }
        span.end();
      },
    };
  }

  shutdown(): Promise<void> {
    return this.tracing.shutdown();
  }
}
