// One proxied request's trace at the gateway, shared by the express-gateway policies and the
// plain Express middleware:
//
//   1. extract the inbound context (core/trace-context, configured formats, precedence order)
//   2. trust boundary (core/sampling/trust.ts): parent, link, or a new root
//   3. head decision from the trace id (core/sampling EdgeSampler)
//   4. SERVER span; inbound trace headers and the debug token are removed from the request and
//      the outbound context (our span as parent, head flag, ot=th) is injected instead
//   5. `traceresponse` on the response
//   6. when the response finishes (or its connection closes first): final decision (error /
//      latency), status, end — held children (one CLIENT span per upstream attempt) go out with
//      it or not at all
//
// Tracing never fails a request: any exception here is counted and the request proceeds.
//
// Cost shape (gateway-plugins/README.md, "Cost per request"): most requests are not kept, so
// the per-request path allocates little and only fixed-shape objects — one GatewayRequest
// holding plain facts, no named closure per request (the plugin runs under tsx, whose keepNames
// transform turns every named closure into an Object.defineProperty call). A kept request hands
// the exporter its recorded facts (core/otel DeferredSpan, after letting go of req and res); the
// span's attributes and OTLP shape are built in the export batch, not at the end of the request.
//
// Under express every `res`, and under express-gateway every `req` too, gets a hidden class
// (V8 map) of its own: V8's IC log shows each property looked up through their prototypes
// (`res.on`, `res.headersSent`, `req.headers`…) missing its inline cache on every request, a
// runtime lookup each time, and a property added to them copies the map (4 µs per request for
// two symbol-keyed stores). The trace touches them as little as it can and adds nothing to them.
//
// For the same reason the end of a response is not observed with a listener per response: Node
// publishes every HTTP/1 response's finish on the `http.server.response.finish` diagnostics
// channel, one subscription per tracer sees them all, and a connection that closes before its
// response finished (a reset) is seen by one `close` listener per connection. Measured against
// a `close` listener per response in express-gateway (two gateway processes per variant, six
// alternating rounds, 1 % head rate): 267 vs 270 µs of gateway CPU per request — about 1 % less,
// inside the ±5 % that separate two processes of one configuration; a closure and a listener
// fewer per request either way.
import dc from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Link, SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type FinishedSpanInit, KEPT_BY, type SpanRecord, startTracing, type Tracing } from '../../core/otel/index.ts';
import {
  assessTrust,
  EdgeSampler,
  type HeadDecision,
  type InboundContext,
  type SamplingRequest,
  type TrustVerdict,
} from '../../core/sampling/index.ts';
import {
  extract,
  formatTraceresponse,
  headersFromNode,
  TRACEPARENT,
  TRACESTATE,
  inject,
  outboundTracestate,
  isTraceHeader,
  type TraceContext,
  type TraceFormat,
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
   * Authenticated consumer (user or app) — ids only, never credentials. Called with the request
   * when the span of a kept request ends, because authentication stages usually run after the
   * tracing stage; one function per policy, not one closure per request.
   */
  consumer?: (req: IncomingMessage) => { id: string; type?: string } | undefined;
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

export interface GatewayCounters {
  tracingErrors: number;
  invalidInbound: Record<string, number>;
  tokenRejected: Record<string, number>;
}

// Request → trace, for a later stage (the load balancer) and so begin() is idempotent: a
// symbol-keyed property of the request's header object. Not of req/res (per-request hidden
// classes, above), and not a WeakMap keyed by the request: with its value reaching the request
// it kept every request graph alive through the young generation (V8's scavenger holds an
// old-space WeakMap's values while their young keys live: promoted 7.6 → 18.4 KB per request,
// scavenge time ×2.5), and even without that its ephemeron write barrier, identity hash and
// table probes cost 7.5 µs per request with cold caches (about 19 µs in express-gateway). Node
// and http-proxy copy and send string-keyed headers only, so the symbol never leaves the process.
const TRACE = Symbol('meshtrace.requestTrace');
type TracedHeaders = IncomingHttpHeaders & { [TRACE]?: GatewayRequest };

// Connection → its latest traced request, for a reset: set once per request on the socket (one
// hidden class per connection, not per request), never cleared — a finished request ignores a
// second end, and the next request on the connection replaces it.
const LATEST = Symbol('meshtrace.latestRequest');
type TracedSocket = Socket & { [LATEST]?: GatewayRequest };

const RESPONSE_FINISH = 'http.server.response.finish';

/** end() never throws (it counts its own failures), so this handler needs no guard of its own. */
function onConnectionClose(this: TracedSocket): void {
  this[LATEST]?.end(true);
}

/** Attempt spans kept per request (retries are capped at 10; this bounds a misuse). */
const MAX_ATTEMPT_SPANS = 16;

/** The trace a previous stage started for `req`, if any. */
export function traceOf(req: IncomingMessage): RequestTrace | undefined {
  return (req.headers as TracedHeaders)[TRACE];
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const noHeader = (_name: string): string | undefined => undefined;

/** A kept request's headers once it ended (its span no longer needs them). */
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** An attempt recorded as plain data, exported as a CLIENT span only if its request is kept. */
class PendingAttempt implements Attempt, SpanRecord {
  readonly spanId = newSpanId();
  readonly startMs = Date.now();
  endMs: number | null = null;
  error: string | null = null;
  readonly headers: [string, string][];
  readonly attributes: Attrs;
  private readonly host: string;

  constructor(
    private readonly owner: GatewayRequest,
    readonly attempt: number,
    readonly endpoint: string,
  ) {
    const u = new URL(endpoint);
    this.attributes = {
      'meshtrace.attempt': attempt,
      'http.request.resend_count': attempt - 1,
      'server.address': u.hostname,
      'server.port': Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      'url.full': endpoint,
    };
    this.host = u.host;
    this.headers = owner.outbound(this.spanId);
  }

  end(o: AttemptOutcome): void {
    if (this.endMs !== null) return;
    this.endMs = Date.now();
    const outcome = o.error ?? (o.status >= 500 ? 'http_error' : 'ok');
    this.attributes['meshtrace.attempt.outcome'] = outcome;
    if (o.status > 0) this.attributes['http.response.status_code'] = o.status;
    if (outcome !== 'ok') {
      this.attributes['error.type'] = o.error ?? String(o.status);
      this.error = outcome;
    }
  }

  /** Ends an attempt still running when its request ended (the downstream went away). */
  cancel(endMs: number): void {
    if (this.endMs !== null) return;
    this.endMs = endMs;
    this.attributes['meshtrace.attempt.outcome'] = 'cancelled';
    this.error = 'cancelled';
  }

  spanInit(): FinishedSpanInit {
    const owner = this.owner;
    return {
      name: `attempt ${this.attempt} ${this.host}`,
      kind: SpanKind.CLIENT,
      traceId: owner.traceId,
      spanId: this.spanId,
      traceState: owner.exported!.spanContext().traceState,
      parent: owner.exported!.spanContext(),
      startMs: this.startMs,
      endMs: this.endMs!,
      attributes: this.attributes,
      error: this.error,
    };
  }
}

/**
 * One traced request: the facts gathered at the start, the decision, its attempts. It is also
 * what the samplers read (a SamplingRequest), so a request costs one object, not two.
 */
class GatewayRequest implements RequestTrace, SamplingRequest, SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly head: HeadDecision;
  proxyError?: 'timeout' | 'connect_error' | 'reset';
  // SamplingRequest
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly parent: InboundContext | null;
  readonly trusted: boolean;
  readonly debugTokenSubject: string | undefined;
  readonly route: string;
  readonly service: string;
  readonly nowMs: number;
  private headers: IncomingHttpHeaders;
  // Released when the request ends (see end()).
  private req: IncomingMessage | null;
  private res: ServerResponse | null;
  /** The valid inbound context (parent or link), null when none. */
  private readonly inbound: TraceContext | null;
  private readonly inboundFormat: TraceFormat | null;
  private readonly verdict: TrustVerdict;
  private readonly asParent: boolean;
  private readonly random: boolean;
  private readonly userAgent: string | undefined;
  private attempts: PendingAttempt[] | null = null;
  private ended = false;
  // What the end of a kept request adds to the facts above, for its span (spanInit).
  endMs = 0;
  private status = 0;
  private error: string | null = null;
  private keptBy = '';
  private consumer: { id: string; type?: string } | undefined = undefined;
  /** The SERVER span handed to the exporter, once kept (its context parents the attempts). */
  exported: ReadableSpan | null = null;

  constructor(
    readonly tracer: GatewayTracer,
    req: IncomingMessage,
    headers: IncomingHttpHeaders,
    res: ServerResponse,
    private readonly info: RequestInfo,
  ) {
    const started = Date.now();
    this.req = req;
    this.res = res;
    this.nowMs = started;
    const s = tracer.settings;
    this.headers = headers;
    const ex = extract(headersFromNode(headers), s.inbound);
    if (ex.reasons.length > 0) tracer.countInvalid(ex.reasons);
    const inbound = ex.valid ? ex.context : null;
    this.inbound = inbound;
    this.inboundFormat = ex.valid ? ex.format : null;
    const trust = s.sampling.trust;
    const verdict = assessTrust(
      trust,
      inbound === null
        ? null
        : {
            valid: true,
            sampled: inbound.sampled,
            debug: inbound.debug,
            random: inbound.random,
            tracestate: inbound.tracestate,
          },
      trust.tokenHeader === null ? noHeader : (name) => firstHeader(headers, name),
      started,
    );
    if (verdict.tokenRejected !== undefined) tracer.countTokenRejected(verdict.tokenRejected);
    this.verdict = verdict;
    const asParent = verdict.attach === 'parent' && inbound !== null;
    this.asParent = asParent;
    this.traceId = asParent ? inbound.traceId : newTraceId();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    this.method = req.method ?? 'GET';
    this.path = path;
    this.authority = firstHeader(headers, 'host') ?? '';
    this.route = info.apiEndpoint ?? info.route ?? path;
    this.service = s.serviceName;
    this.parent = verdict.honoured;
    this.trusted = verdict.trusted;
    this.debugTokenSubject = verdict.debugTokenSubject;
    this.head = tracer.sampler.head(this);
    this.spanId = newSpanId();
    this.random = asParent ? inbound.random : true;
    this.userAgent = firstHeader(headers, 'user-agent');

    // The upstream must see our context only: every inbound trace header and the token go; a
    // header we write again is overwritten in place (a delete would turn Node's header object
    // into a slow dictionary for every later reader).
    const out = this.outbound(this.spanId);
    for (const name of Object.keys(headers)) {
      if (isTraceHeader(name) && !writes(out, name)) delete headers[name];
    }
    if (trust.tokenHeader !== null && headers[trust.tokenHeader] !== undefined) delete headers[trust.tokenHeader];
    for (let i = 0; i < out.length; i++) headers[out[i]![0]] = out[i]![1];
    // traceresponse has traceparent's grammar and here the same ids and flags (a debug keep is
    // a sampled one): reuse the outbound traceparent when there is one.
    const traceresponse =
      out.length > 0 && out[0]![0] === TRACEPARENT
        ? out[0]![1]
        : formatTraceresponse({
            traceId: this.traceId,
            spanId: this.spanId,
            sampled: this.head.sampled,
            debug: false,
            random: this.random,
          });
    try {
      res.setHeader('traceresponse', traceresponse);
    } catch {
      // Headers already sent by an earlier stage: there is no response header left to add.
    }
    // The tracer's finish subscription ends the span (see the top of this file); a reset is
    // seen by the connection's close. HTTP/2 responses are not published on that channel: they
    // get a listener of their own ('close' follows 'finish', or comes alone on a reset).
    const socket = req.socket as TracedSocket | null;
    if (req.httpVersionMajor !== 1 || socket === null) {
      res.on('close', () => this.end(!res.writableFinished));
    } else {
      if (socket[LATEST] === undefined) socket.once('close', onConnectionClose);
      socket[LATEST] = this;
    }
  }

  header(name: string): string | undefined {
    return firstHeader(this.headers, name);
  }

  /** Trace headers for an upstream request whose parent is `parentSpanId`. */
  outbound(parentSpanId: string): [string, string][] {
    const baggage = this.inbound?.baggage;
    if (this.tracer.w3cOnly && (baggage === undefined || baggage.length === 0)) {
      // What inject() writes for w3c alone with no baggage, without its generality (our ids are
      // valid by construction: parsed inbound, or drawn here). A kept request's tracestate
      // carries the sampler's `ot=th`, so this is the path of every kept request too.
      const flags = (this.head.sampled ? 1 : 0) | (this.random ? 2 : 0);
      const traceparent: [string, string] = [TRACEPARENT, `00-${this.traceId}-${parentSpanId}-0${flags}`];
      const tracestate = outboundTracestate(this.head.tracestate);
      return tracestate === '' ? [traceparent] : [traceparent, [TRACESTATE, tracestate]];
    }
    return inject(
      {
        traceId: this.traceId,
        spanId: parentSpanId,
        sampled: this.head.sampled,
        debug: this.head.keptBy === 'debug',
        random: this.random,
        tracestate: this.head.tracestate,
        baggage: this.inbound?.baggage ?? [],
      },
      this.tracer.settings.outbound,
    );
  }

  startAttempt(attempt: number, endpoint: string): Attempt {
    const pending = new PendingAttempt(this, attempt, endpoint);
    this.attempts ??= [];
    if (this.attempts.length < MAX_ATTEMPT_SPANS) this.attempts.push(pending);
    return pending;
  }

  /** Ends the span once: `reset` when the connection went away before the response finished. */
  end(reset: boolean): void {
    if (this.ended) return;
    this.ended = true;
    const req = this.req!;
    const res = this.res!;
    try {
      const now = Date.now();
      const status = reset && !res.headersSent ? 0 : res.statusCode;
      const final = this.tracer.sampler.final(this, this.head, {
        status,
        reset: reset || this.proxyError !== undefined,
        durationMs: now - this.nowMs,
      });
      const keptBy = final.sampled ? final.keptBy : null;
      // Authentication ran after this stage: what it found is read now, while the request is here.
      if (keptBy !== null) this.consumer = this.info.consumer?.(req);
      // Let go of the request's object graph: the connection keeps this object (its latest
      // request, for a reset) while it stays open, and a kept span is built later, from facts.
      this.req = null;
      this.res = null;
      this.headers = NO_HEADERS;
      if (keptBy === null) return;
      this.endMs = now;
      this.status = status;
      this.error =
        status >= 500 || status === 0 || this.proxyError !== undefined
          ? (this.proxyError ?? (status === 0 ? 'reset' : String(status)))
          : null;
      this.keptBy = keptBy;
      this.tracer.emit(this);
    } catch {
      this.tracer.counters.tracingErrors++;
    }
  }

  /** The SERVER span, built when first exported (core/otel DeferredSpan). */
  spanInit(): FinishedSpanInit {
    const parent = this.parentContext;
    return {
      name: this.spanName,
      kind: SpanKind.SERVER,
      traceId: this.traceId,
      spanId: this.spanId,
      traceState: this.exported!.spanContext().traceState,
      parent:
        parent === null
          ? undefined
          : { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.sampled ? 1 : 0, isRemote: true },
      startMs: this.nowMs,
      endMs: this.endMs,
      attributes: this.attributes(),
      links: this.links,
      error: this.error,
    };
  }

  /** The SERVER span's attributes, built only for a kept request. */
  private attributes(): Attrs {
    const info = this.info;
    const a: Attrs = {
      'http.request.method': this.method,
      'url.path': this.path,
      'url.scheme': 'http',
      'server.address': this.authority.replace(/:\d+$/, ''),
      'meshtrace.sampling.trusted': this.verdict.trusted,
    };
    if (this.userAgent) a['user_agent.original'] = this.userAgent.slice(0, 256);
    if (info.route) a['http.route'] = info.route;
    if (info.apiEndpoint) a['eg.api_endpoint'] = info.apiEndpoint;
    if (info.pipeline) a['eg.pipeline'] = info.pipeline;
    if (this.inboundFormat !== null) a['meshtrace.inbound.format'] = this.inboundFormat;
    if (this.verdict.debugTokenSubject) a['meshtrace.debug.subject'] = this.verdict.debugTokenSubject;
    const consumer = this.consumer;
    if (consumer?.id) {
      a['eg.consumer.id'] = String(consumer.id).slice(0, 256);
      if (consumer.type) a['eg.consumer.type'] = String(consumer.type).slice(0, 64);
    }
    if (this.status > 0) a['http.response.status_code'] = this.status;
    if (this.error !== null) a['error.type'] = this.error;
    a[KEPT_BY] = this.keptBy;
    return a;
  }

  get spanName(): string {
    return `${this.method} ${this.info.route ?? this.info.apiEndpoint ?? this.path}`;
  }

  get startMs(): number {
    return this.nowMs;
  }

  get parentContext(): TraceContext | null {
    return this.asParent ? this.inbound : null;
  }

  get links(): Link[] {
    const inbound = this.inbound;
    if (this.verdict.attach !== 'link' || inbound === null) return [];
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

  get attemptSpans(): readonly PendingAttempt[] {
    return this.attempts ?? [];
  }
}

/** True when `out` writes header `name` (names in `out` are lower-case, as Node's are). */
function writes(out: readonly [string, string][], name: string): boolean {
  for (let i = 0; i < out.length; i++) if (out[i]![0] === name) return true;
  return false;
}

export class GatewayTracer {
  readonly tracing: Tracing;
  readonly sampler: EdgeSampler;
  /** Outbound propagation is W3C alone (the default): the common case gets a direct path. */
  readonly w3cOnly: boolean;
  readonly counters: GatewayCounters = { tracingErrors: 0, invalidInbound: {}, tokenRejected: {} };

  /** Ends the span of each finished response this tracer began (see the top of this file). */
  private readonly onResponseFinish = (message: unknown): void => {
    // A subscriber's exception would be rethrown by Node on the next tick: never let one out.
    try {
      const { request } = message as { request: IncomingMessage };
      const t = (request.headers as TracedHeaders)[TRACE];
      if (t !== undefined && t.tracer === this) t.end(false);
    } catch {
      this.counters.tracingErrors++;
    }
  };

  constructor(readonly settings: GatewaySettings) {
    this.sampler = new EdgeSampler(settings.sampling);
    this.w3cOnly = settings.outbound.length === 1 && settings.outbound[0] === 'w3c';
    this.tracing = startTracing({
      serviceName: settings.serviceName,
      otlpUrl: settings.otlpUrl,
      maxQueueSize: settings.export.maxQueueSize,
      maxExportBatchSize: settings.export.maxBatchSize,
      scheduledDelayMs: settings.export.flushIntervalMs,
      exportTimeoutMs: settings.export.timeoutMs,
    });
    dc.subscribe(RESPONSE_FINISH, this.onResponseFinish);
  }

  /** Starts tracing `req` (idempotent); null when tracing itself failed (counted, request unaffected). */
  begin(req: IncomingMessage, res: ServerResponse, info: RequestInfo = {}): RequestTrace | null {
    const headers = req.headers as TracedHeaders;
    const existing = headers[TRACE];
    if (existing !== undefined) return existing;
    try {
      const t = new GatewayRequest(this, req, headers, res, info);
      headers[TRACE] = t;
      return t;
    } catch {
      this.counters.tracingErrors++;
      return null;
    }
  }

  countInvalid(reasons: readonly string[]): void {
    const c = this.counters.invalidInbound;
    for (const r of reasons) c[r] = (c[r] ?? 0) + 1;
  }

  countTokenRejected(reason: string): void {
    const c = this.counters.tokenRejected;
    c[reason] = (c[reason] ?? 0) + 1;
  }

  /**
   * Hands a kept request's spans to the exporter — its attempts as CLIENT children, then the
   * SERVER span — as DeferredSpans: built from the recorded facts when the export batch reads
   * them, not here at the end of the request (core/otel finished-span.ts).
   */
  emit(r: GatewayRequest): void {
    const tracing = this.tracing;
    const traceState = tracing.traceState(r.head.tracestate);
    const server = tracing.defer(r.traceId, r.spanId, traceState, r);
    r.exported = server;
    const attempts = r.attemptSpans;
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i]!;
      // Still running: the downstream went away while this attempt was in flight.
      a.cancel(r.endMs);
      spans.push(tracing.defer(r.traceId, a.spanId, traceState, a));
    }
    spans.push(server);
    tracing.exportKept(spans);
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
    dc.unsubscribe(RESPONSE_FINISH, this.onResponseFinish);
    return this.tracing.shutdown();
  }
}
