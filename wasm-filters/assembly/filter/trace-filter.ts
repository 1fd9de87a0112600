// The trace filter. Per request:
//   1. read all request headers at once (get_header_map_pairs shows duplicates);
//   2. extract a context with the configured inbound formats, in order — or start a trace;
//   3. draw the proxy's own span id;
//   4. remove every stale propagation header, inject the configured outbound formats with the
//      proxy's span as the parent;
//   5. on the response, add `traceresponse` (W3C Trace Context Level 2) when configured.
//   6. at the end of the stream (on_log), build the span record, ask the sampler for the final
//      decision and, when kept, hand the span to the exporter (assembly/export/).
// With a `linking` section (assembly/linking/): the inbound filter registers each request in
// flight; the outbound filter gives an app call that carries no context the context of the
// request that caused it (or a provisional trace with the candidates), before step 2's result
// is used.
// Tracing never fails a request: a bad header only changes which context is used, and
// every hook returns Continue.
import { BufferType, FilterHeadersStatus, HeaderMapType, LogLevel } from '../abi/enums';
import { HttpContext, RootContext } from '../abi/context';
import {
  getBufferBytes,
  getHeaderMapPairs,
  getHeaderMapValue,
  getPropertyString,
  log,
  removeHeaderMapValue,
  replaceHeaderMapValue,
  setTickPeriod,
} from '../abi/hostcalls';
import { nowNanos, randomU64 } from '../abi/wasi';
import { Exporter } from '../export/exporter';
import { fillHttpAttributes, readResponseCode, SpanKind, SpanRecord } from '../export/span-record';
import { HeaderPairs } from '../abi/headers';
import { Sampled, TraceContext } from '../trace-context/context';
import { extract } from '../trace-context/extract';
import { PROPAGATION_HEADERS } from '../trace-context/formats';
import { injectInto } from '../trace-context/inject';
import { formatTraceparent } from '../trace-context/w3c';
import { parseDecimal } from '../trace-context/chars';
import { FilterConfig, readConfig } from './config';
import { finalDecision } from './final-decision';
import { ATTACH_LINK, ATTACH_PARENT, Decision, Inbound, K_DEBUG, Sampler, SamplingRequest } from '../sampling/sampler';
import { newSpanId, newTraceId } from './ids';
import { LinkAttributes } from '../export/link-attributes';
import { LINK_EVIDENCE_NAMES, LINK_METHOD_NAMES, LinkDecision, Linker, LinkMethod, newEntry } from '../linking/linker';
import { operationKey, pathValues } from '../linking/operation';
import { F_DEBUG, F_RANDOM, F_SAMPLED } from '../linking/registry';
import { FilterMetrics } from './metrics';

let metrics: FilterMetrics | null = null;

// The headers injected into the current request: one list reused by every request (filled and
// written out within onRequestHeaders).
const INJECTED = new HeaderPairs();

function sharedMetrics(): FilterMetrics {
  if (metrics === null) metrics = new FilterMetrics();
  return metrics as FilterMetrics;
}

export class TraceRoot extends RootContext {
  config: FilterConfig = new FilterConfig();
  exporter: Exporter | null = null;
  sampler: Sampler = new Sampler(this.config.sampling);
  linker: Linker | null = null;

  onConfigure(configSize: u32): bool {
    const bytes = configSize > 0 ? getBufferBytes(BufferType.PluginConfiguration, 0, configSize) : null;
    const text = bytes === null ? '' : String.UTF8.decode(bytes);
    const result = readConfig(text);
    if (result.config === null) {
      log(LogLevel.Error, `meshtrace: config: ${result.error}`);
      return false;
    }
    this.config = result.config as FilterConfig;
    this.sampler = new Sampler(this.config.sampling);
    sharedMetrics();
    const exp = this.config.export;
    if (exp !== null) {
      this.exporter = new Exporter(exp, this.config.serviceName);
      setTickPeriod(<u32>exp.flushIntervalMs);
    }
    const linking = this.config.linking;
    this.linker = linking === null ? null : new Linker(linking);
    log(LogLevel.Info, `meshtrace: configured ${this.config.describe()}`);
    return true;
  }

  newHttpContext(id: u32): HttpContext | null {
    return new TraceStream(id, this);
  }

  onTick(): void {
    const e = this.exporter;
    if (e !== null) e.flush(true);
  }

  onHttpCallResponse(token: u32, headerCount: u32, bodySize: u32, trailerCount: u32): void {
    const e = this.exporter;
    if (e !== null) e.onResponse(token, headerCount);
  }

  onDone(): bool {
    // Shutting down: send what is queued (answers may never come; nothing waits for them).
    const e = this.exporter;
    if (e !== null) e.flush(true);
    return true;
  }
}

/**
 * Removes each propagation header present (one host call per distinct name) — except those
 * `injected` is about to write: replace_header_map_value drops every value of a name before
 * adding its own (Envoy's setCopy), so removing them first would only cost a host call each.
 */
function removeStale(headers: HeaderPairs, injected: HeaderPairs): void {
  let removed: u32 = 0; // bit i set = PROPAGATION_HEADERS[i] already removed (or replaced)
  for (let k = 0; k < PROPAGATION_HEADERS.length; k++) {
    for (let j = 0; j < injected.length; j++) {
      if (injected.nameIs(j, PROPAGATION_HEADERS[k])) removed |= 1 << k;
    }
  }
  for (let i = 0; i < headers.length; i++) {
    for (let k = 0; k < PROPAGATION_HEADERS.length; k++) {
      if ((removed & (1 << k)) == 0 && headers.nameIs(i, PROPAGATION_HEADERS[k])) {
        removeHeaderMapValue(HeaderMapType.RequestHeaders, PROPAGATION_HEADERS[k]);
        removed |= 1 << k;
        break;
      }
    }
  }
}

/** grpc-status from the response trailers (or headers, for trailers-only responses); -1 when absent. */
function grpcStatus(): i32 {
  let v = getHeaderMapValue(HeaderMapType.ResponseTrailers, 'grpc-status');
  if (v === null) v = getHeaderMapValue(HeaderMapType.ResponseHeaders, 'grpc-status');
  if (v === null || v.length == 0 || v.length > 3) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

export class TraceStream extends HttpContext {
  /** The context sent upstream (the proxy's span as parent); null until request headers. */
  private outgoing: TraceContext | null = null;
  /** The caller's span id when a context was continued ("" = this proxy started the trace). */
  private parentSpanId: string = '';
  private startNs: u64 = 0;
  private request: SamplingRequest | null = null;
  private head: Decision | null = null;
  /** The untrusted inbound context kept as a link (edge, inbound_context=link); "" = none. */
  private linkTraceId: string = '';
  private linkSpanId: string = '';
  /** The span was decided (and maybe exported) — by on_log, or by on_done where no on_log comes. */
  private finished: bool = false;
  /** :status as this (outbound) filter saw it; Envoy's response.code is unset for a failed retry attempt. */
  private upstreamStatus: i32 = 0;
  /** This stream's part in online linking; null unless the filter links (one field: streams are many). */
  private linking: StreamLink | null = null;

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const config = (this.root as TraceRoot).config;
    const m = sharedMetrics();
    m.inc(m.requests);
    this.startNs = nowNanos();
    const headers = getHeaderMapPairs(HeaderMapType.RequestHeaders);
    const result = extract(headers, config.inbound);
    for (let i = 0; i < result.reasons.length; i++) m.invalidContext(result.reasons[i]);

    // Trust boundary, then the head decision (core/sampling/README.md "Head"). The sampler's
    // result is the outbound sampled flag and tracestate (`ot=th`).
    const root = this.root as TraceRoot;
    const sampler = root.sampler;
    const req = new SamplingRequest();
    // method, path (without the query) and authority are read from these when a strategy needs them.
    req.headers = headers;
    req.service = config.serviceName;
    if (config.sampling.needsRouteName()) {
      // Envoy resolves the route before the filter chain runs; "" (unnamed) falls back to the path.
      const route = getPropertyString('route_name');
      if (route !== null) req.route = route;
    }
    req.nowMs = <f64>this.startNs / 1e6;
    const linker = root.linker;
    if (linker !== null && !result.valid && config.direction == 'outbound') {
      // The app sent no context: find the request that caused this call (linking/linker.ts).
      // A link becomes the inbound context, so trust, sampling and injection treat it as a parent.
      const d = linker.decide(operationKey(req.method, req.authority, req.path), pathValues(req.path), this.startNs);
      const sl = new StreamLink();
      sl.decision = d;
      this.linking = sl;
      m.linkDecision(d.method);
      if (d.linked) {
        // Only a tracked call's answer is reported back (it counted as outstanding).
        if (d.tracked) sl.slot = d.slot;
        const c = new TraceContext();
        c.traceId = d.traceId;
        c.spanId = d.parentSpanId;
        c.sampled = (d.flags & F_SAMPLED) != 0 ? Sampled.Yes : Sampled.No;
        c.debug = (d.flags & F_DEBUG) != 0;
        c.random = (d.flags & F_RANDOM) != 0;
        c.tracestate = d.tracestate;
        result.valid = true;
        result.context = c;
      }
      countLinker(linker);
    }
    const inbound = new Inbound();
    if (result.valid) {
      const c = result.context;
      inbound.sampled = c.sampled == Sampled.Unset ? -1 : c.sampled == Sampled.Yes ? 1 : 0;
      inbound.debug = c.debug;
      inbound.random = c.random;
      inbound.tracestate = c.tracestate;
    }
    const trust = sampler.assessTrust(result.valid, inbound, req);
    if (trust.tokenRejected.length > 0) m.incNamed('meshtrace.debug_token_rejected.' + trust.tokenRejected);
    const tokenHeader = config.sampling.tokenHeader;
    // A token (valid or not) is a credential: never forwarded, never recorded.
    if (tokenHeader !== null && req.header(tokenHeader) !== null) {
      removeHeaderMapValue(HeaderMapType.RequestHeaders, tokenHeader);
    }
    let honoured = trust.honoured;
    const sl = this.linking;
    const d: LinkDecision | null = sl === null ? null : sl.decision;
    if (honoured === null && trust.trusted && d !== null && d.method == LinkMethod.Provisional) {
      // Kept when a candidate's trace is kept: the call must reach the collector to be linked there.
      const o = new Inbound();
      o.sampled = d.anyCandidateSampled ? 1 : 0;
      honoured = o;
    }
    if (honoured === null && trust.trusted && !result.valid && result.orphanSampled != Sampled.Unset) {
      // A lone B3 sampling state from a trusted caller is its decision without a context.
      const o = new Inbound();
      o.sampled = result.orphanSampled == Sampled.Yes ? 1 : 0;
      o.debug = result.orphanDebug;
      honoured = o;
    }

    let ctx: TraceContext;
    if (result.valid && trust.attach == ATTACH_PARENT) {
      ctx = result.context;
      this.parentSpanId = ctx.spanId;
      m.inc(m.contextsContinued);
    } else {
      if (result.valid && trust.attach == ATTACH_LINK) {
        this.linkTraceId = result.context.traceId;
        this.linkSpanId = result.context.spanId;
      }
      ctx = new TraceContext();
      ctx.traceId = newTraceId();
      // Our ids are random, so the Level 2 random flag holds.
      ctx.random = true;
      m.inc(m.tracesStarted);
    }
    req.traceId = ctx.traceId;
    req.parent = honoured;
    req.trusted = trust.trusted;
    req.tokenSubject = trust.tokenSubject;
    const head = sampler.head(req);
    ctx.sampled = head.sampled ? Sampled.Yes : Sampled.No;
    // Propagation-only (no `sampling` section): the caller's tracestate passes as it came.
    if (config.sampling.enabled) ctx.tracestate = head.tracestate;
    // The debug flag travels on only from a trusted source (a client cannot force it downstream).
    ctx.debug = head.keptBy == K_DEBUG && honoured !== null && honoured.debug;
    this.request = req;
    this.head = head;
    const out = ctx.withSpanId(newSpanId());
    // Baggage headers (baggage, uberctx-*) are application data: they pass through untouched,
    // so the injected set carries none (no duplicates, no re-encoding).
    out.clearBaggage();
    this.outgoing = out;
    if (linker !== null && config.direction == 'inbound') {
      let flags: u8 = 0;
      if (out.sampled == Sampled.Yes) flags |= F_SAMPLED;
      if (out.debug) flags |= F_DEBUG;
      if (out.random) flags |= F_RANDOM;
      const op = operationKey(req.method, '', req.path);
      const reg = new StreamLink();
      reg.slot = linker.register(
        newEntry(op, pathValues(req.path), this.startNs, out.traceId, out.spanId, flags, out.tracestate),
      );
      this.linking = reg;
      countLinker(linker);
    }

    const injected = INJECTED;
    injected.clear();
    injectInto(injected, out, config.outbound);
    removeStale(headers, injected);
    for (let i = 0; i < injected.length; i++) {
      replaceHeaderMapValue(HeaderMapType.RequestHeaders, injected.name(i), injected.value(i));
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    // The app answered (inbound: it is done calling for this request; outbound: it is unblocked).
    this.releaseLink();
    const out = this.outgoing;
    // Client side only (one header read): in a cluster's per-attempt filter chain, a failed
    // attempt's 503 never reaches the stream's response.code, which describes the final answer.
    if (out !== null && (this.root as TraceRoot).config.direction == 'outbound') {
      const status = getHeaderMapValue(HeaderMapType.ResponseHeaders, ':status');
      if (status !== null) this.upstreamStatus = <i32>parseDecimal(status as string);
    }
    if (out !== null && (this.root as TraceRoot).config.traceresponse) {
      // traceresponse has the traceparent shape; its span is the proxy's (the server side here).
      replaceHeaderMapValue(HeaderMapType.ResponseHeaders, 'traceresponse', formatTraceparent(out));
    }
    return FilterHeadersStatus.Continue;
  }

  /** Ends this stream's part in linking, once: at the response, or at the end of a stream that had none. */
  private releaseLink(): void {
    const sl = this.linking;
    if (sl === null || sl.slot == 0) return;
    const slot = sl.slot;
    sl.slot = 0;
    const root = this.root as TraceRoot;
    const linker = root.linker;
    if (linker === null) return;
    if (root.config.direction == 'inbound') linker.finish(slot);
    else linker.callDone(slot);
    countLinker(linker);
  }

  onLog(): void {
    this.releaseLink();
    if (this.finished) return;
    this.finished = true;
    const out = this.outgoing;
    if (out === null) return;
    const root = this.root as TraceRoot;
    const record = new SpanRecord();
    record.traceId = out.traceId;
    record.spanId = out.spanId;
    record.parentSpanId = this.parentSpanId;
    record.traceState = out.tracestate;
    record.kind = root.config.direction == 'outbound' ? SpanKind.Client : SpanKind.Server;
    record.startNs = this.startNs;
    record.endNs = nowNanos();
    const req = this.request;
    const head = this.head;
    if (req === null || head === null) return;
    const exporter = root.exporter;
    // The outcome matters only to a head drop (Sampler.final: a head keep stays) and to an
    // exported span; otherwise reading it costs three host calls per request for nothing.
    const needOutcome = !head.sampled;
    if (needOutcome || exporter !== null) {
      readResponseCode(record);
      if (record.httpStatus == 0) record.httpStatus = this.upstreamStatus;
    }
    const decision = finalDecision(root.sampler, req, head, record, needOutcome ? grpcStatus() : -1);
    const m = sharedMetrics();
    if (decision.keep && decision.keptBy >= 0) m.sampled(decision.keptBy);
    else if (decision.droppedBy >= 0) m.samplingDropped(decision.droppedBy);
    if (!decision.keep || exporter === null) return;
    fillHttpAttributes(record);
    record.setString('meshtrace.sampling.reason', decision.reason);
    record.setString('meshtrace.sampling.kept_by', decision.reason);
    if (req.tokenSubject !== null) record.setString('meshtrace.debug.subject', req.tokenSubject as string);
    if (this.linkTraceId.length > 0) {
      record.linkTraceId = this.linkTraceId;
      record.linkSpanId = this.linkSpanId;
      record.linkReason = 'untrusted_inbound_context';
    }
    if (decision.threshold.length > 0) record.setString('meshtrace.sampling.threshold', decision.threshold);
    const linking = root.config.linking;
    const sl = this.linking;
    if (linking !== null)
      record.link = linkAttributes(linking.workload, sl === null ? null : (sl as StreamLink).decision);
    exporter.record(record);
  }

  /**
   * Envoy calls on_log before on_done for a downstream stream, but a filter in a cluster's
   * upstream (per-attempt) chain gets no on_log at all: each retry attempt's span is decided here.
   */
  onDone(): void {
    this.onLog();
  }
}

/** A stream's linking state: its registry slot (inbound) or its parent's (outbound), and the decision. */
class StreamLink {
  /** 0 = nothing to release. */
  slot: u32 = 0;
  /** Outbound: what decide() said; null on the inbound side. */
  decision: LinkDecision | null = null;
}

/**
 * This VM's id: Envoy runs one VM per worker thread, so it names the worker that saw a stream.
 * Drawn once, never 0; 31 bits keep it a small positive int in every OTLP encoding.
 */
let vmId: u32 = 0;
function thisVm(): u32 {
  while (vmId == 0) vmId = <u32>(randomU64() & 0x7fffffff);
  return vmId;
}

/** The span's linking facts (export/link-attributes.ts). */
function linkAttributes(workload: string, d: LinkDecision | null): LinkAttributes {
  const a = new LinkAttributes();
  a.workload = workload;
  a.worker = thisVm();
  if (d === null) return a;
  a.method = LINK_METHOD_NAMES[d.method];
  a.inflight = d.inflight;
  a.inferred = d.linked;
  a.confidence = d.confidence;
  a.evidence = LINK_EVIDENCE_NAMES[d.evidence];
  a.provisional = d.method == LinkMethod.Provisional;
  a.candidates = d.candidates;
  return a;
}

/** Moves the linker's event counts into Envoy counters (meshtrace.link.<event>). */
function countLinker(linker: Linker): void {
  const c = linker.counters;
  const m = sharedMetrics();
  if (c.registryFull > 0) m.addNamed('meshtrace.link.registry_full', c.registryFull);
  if (c.expired > 0) m.addNamed('meshtrace.link.expired', c.expired);
  if (c.casExhausted > 0) m.addNamed('meshtrace.link.cas_exhausted', c.casExhausted);
  if (c.learnedRequests > 0) m.addNamed('meshtrace.link.learned', c.learnedRequests);
  c.registryFull = 0;
  c.expired = 0;
  c.casExhausted = 0;
  c.learnedRequests = 0;
}
