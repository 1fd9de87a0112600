// One HTTP request's span at this hop, with the project's shared sampling and SDK setup:
//
//   1. extract the inbound context (core/trace-context, propagation.extract formats)
//   2. trust boundary (core/sampling assessTrust): attach as child, as a link, or a new root
//   3. head decision from the trace id (core/sampling EdgeSampler: debug → rules → parent →
//      consistent probability, cost cap)
//   4. SERVER span (core/otel: recorded always, exported only if the final decision keeps it);
//      outbound headers = our span as parent, the head flag, ot=th; stale inbound trace
//      headers and the debug-token header listed for removal
//   5. finish(outcome): final decision (error / latency bias keeps head-dropped spans),
//      status, end — exactly once, whichever of response / cancel / error comes first
//
// With no OTLP endpoint configured the same steps run on a no-op tracer: headers still flow,
// nothing is recorded.
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { KEPT_BY, startTracing, type Tracing, withSpanTraceState } from '../core/otel/index.ts';
import { assessTrust, EdgeSampler, type HeadDecision, type SamplingRequest } from '../core/sampling/index.ts';
import { inject, newSpanId, newTraceId, type TraceContext } from '../core/trace-context/index.ts';
import type { ServiceConfig } from './config.ts';
import type { Attrs } from './enrich/types.ts';
import { first, type Headers } from './headers.ts';
import type { Metrics } from './metrics.ts';
import { isIdentityHeader, type Propagation } from './propagation.ts';

export interface HopRequest {
  method: string;
  path: string;
  authority: string;
  headers: Headers;
  route?: string;
  attrs: Attrs;
}

export interface Outcome {
  /** HTTP status sent downstream; 0 when none (reset, cancel). */
  status: number;
  reset?: boolean;
  /** Why the span ends without a response (recorded as meshtrace.ext.end_reason). */
  reason?: string;
}

export interface HopTrace {
  traceId: string;
  span: Span;
  /** Header pairs to set on the upstream request. */
  set: [string, string][];
  /** Header names to remove from the upstream request. */
  remove: string[];
  head: HeadDecision;
  readonly ended: boolean;
  /** Final decision and end; later calls do nothing. Returns whether this call ended it. */
  finish(o: Outcome): boolean;
}

export class HopTracer {
  readonly sampler: EdgeSampler;
  readonly tracing?: Tracing;

  constructor(
    private readonly cfg: ServiceConfig,
    private readonly propagation: Propagation,
    private readonly metrics: Metrics,
  ) {
    this.sampler = new EdgeSampler(cfg.sampling);
    if (cfg.otlp.endpoint !== undefined)
      this.tracing = startTracing({
        serviceName: cfg.serviceName,
        otlpUrl: cfg.otlp.endpoint,
        maxQueueSize: cfg.otlp.maxQueueSize,
        maxExportBatchSize: cfg.otlp.maxExportBatchSize,
        scheduledDelayMs: cfg.otlp.scheduledDelayMs,
        exportTimeoutMs: 5000,
      });
  }

  begin(req: HopRequest): HopTrace {
    const started = Date.now();
    const inbound = this.propagation.extract(req.headers);
    // A bound function, not a closure: under tsx (esbuild keepNames) every named closure made per
    // request also costs an Object.defineProperty of its name (see README, "Measured").
    const header = first.bind(undefined, req.headers);
    const c = inbound?.context;
    const verdict = assessTrust(this.cfg.sampling.trust, c ? { valid: true, ...c } : null, header, started);
    const asParent = verdict.attach === 'parent' && c !== undefined;
    const traceId = asParent ? c.traceId : newTraceId();
    const sreq: SamplingRequest = {
      method: req.method,
      path: req.path,
      authority: req.authority,
      header,
      traceId,
      parent: verdict.honoured,
      trusted: verdict.trusted,
      ...(verdict.debugTokenSubject === undefined ? {} : { debugTokenSubject: verdict.debugTokenSubject }),
      route: req.route ?? req.path,
      service: this.cfg.serviceName,
      nowMs: started,
    };
    const head = this.sampler.head(sreq);

    let ctx: Context = ROOT_CONTEXT;
    const links: Link[] = [];
    if (asParent) {
      ctx = trace.setSpanContext(ROOT_CONTEXT, inbound?.parent ?? { traceId, spanId: c.spanId, traceFlags: 0 });
    } else {
      if (verdict.attach === 'link' && c !== undefined && inbound) {
        links.push({ context: inbound.parent, attributes: { 'meshtrace.link.reason': 'untrusted_inbound_context' } });
      }
      this.tracing?.presetIds(traceId, null);
    }
    ctx = withSpanTraceState(ctx, head.tracestate);
    const attributes: Attrs = { ...req.attrs, 'meshtrace.sampling.trusted': verdict.trusted };
    if (inbound) attributes['meshtrace.inbound.format'] = inbound.format;
    if (verdict.debugTokenSubject) attributes['meshtrace.debug.subject'] = verdict.debugTokenSubject;
    const tracer = this.tracing?.tracer ?? trace.getTracer('meshtrace-noop');
    const span = tracer.startSpan(
      req.route ? `${req.method} ${req.route}` : req.method,
      { kind: SpanKind.SERVER, attributes, links, startTime: started },
      ctx,
    );
    this.metrics.inc('spans_started_total');
    // The API's no-op tracer hands back the parent's context: without an SDK our outbound
    // parent id is a fresh one of our own, so the next hop still sees a distinct parent.
    const spanId = this.tracing ? span.spanContext().spanId : newSpanId();
    const out: TraceContext = {
      traceId,
      spanId,
      sampled: head.sampled,
      debug: head.keptBy === 'debug',
      random: asParent ? c.random : true,
      tracestate: head.tracestate,
      baggage: c?.baggage ?? [],
    };
    const set = inject(out, this.cfg.propagation.inject);
    const remove: string[] = [];
    for (const name of req.headers.keys()) {
      if (isIdentityHeader(name) && !set.some(([k]) => k === name)) remove.push(name);
    }
    const token = this.cfg.sampling.trust.tokenHeader;
    if (token !== null && req.headers.has(token)) remove.push(token);
    return new Hop(this, traceId, span, set, remove, head, sreq, started);
  }

  /** finish() of a Hop: the final decision, the span's outcome attributes, end. */
  end(hop: Hop, o: Outcome): void {
    const { span } = hop;
    const final = this.sampler.final(hop.sreq, hop.head, {
      status: o.status,
      reset: o.reset === true,
      durationMs: Date.now() - hop.started,
    });
    if (o.status > 0) span.setAttribute('http.response.status_code', o.status);
    if (o.reason) span.setAttribute('meshtrace.ext.end_reason', o.reason);
    // OTel HTTP semconv: a server span is an error on 5xx (4xx is the client's), or with no response.
    if (o.status >= 500 || o.reset) {
      const type = o.status > 0 ? String(o.status) : (o.reason ?? 'reset');
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    }
    if (final.sampled && final.keptBy !== null) span.setAttribute(KEPT_BY, final.keptBy);
    else if (final.droppedBy !== null) span.setAttribute('meshtrace.sampling.dropped_by', final.droppedBy);
    if (final.keptBy === 'error') this.metrics.inc('spans_kept_by_error_total');
    span.end();
    this.metrics.inc('spans_ended_total');
  }

  async flush(): Promise<void> {
    await this.tracing?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.tracing?.shutdown();
  }
}

/** One request's span at this hop (a class: no per-request closures or accessor objects). */
class Hop implements HopTrace {
  private done = false;

  constructor(
    private readonly tracer: HopTracer,
    readonly traceId: string,
    readonly span: Span,
    readonly set: [string, string][],
    readonly remove: string[],
    readonly head: HeadDecision,
    readonly sreq: SamplingRequest,
    readonly started: number,
  ) {}

  get ended(): boolean {
    return this.done;
  }

  finish(o: Outcome): boolean {
    if (this.done) return false;
    this.done = true;
    this.tracer.end(this, o);
    return true;
  }
}
