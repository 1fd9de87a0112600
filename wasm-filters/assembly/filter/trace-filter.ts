// The trace filter. Per request:
//   1. read all request headers at once (get_header_map_pairs shows duplicates);
//   2. extract a context with the configured inbound formats, in order — or start a trace;
//   3. draw the proxy's own span id;
//   4. remove every stale propagation header, inject the configured outbound formats with the
//      proxy's span as the parent;
//   5. on the response, add `traceresponse` (W3C Trace Context Level 2) when configured.
//   6. at the end of the stream (on_log), build the span record, ask the sampler for the final
//      decision and, when kept, hand the span to the exporter (assembly/export/).
// Tracing never fails a request: a bad header only changes which context is used, and
// every hook returns Continue.
import { BufferType, FilterHeadersStatus, HeaderMapType, LogLevel } from '../abi/enums';
import { HttpContext, RootContext } from '../abi/context';
import {
  getBufferBytes,
  getHeaderMapPairs,
  log,
  removeHeaderMapValue,
  replaceHeaderMapValue,
  setTickPeriod,
} from '../abi/hostcalls';
import { nowNanos } from '../abi/wasi';
import { Exporter } from '../export/exporter';
import { fillHttpAttributes, readResponseCode, SpanKind, SpanRecord } from '../export/span-record';
import { HeaderPairs } from '../abi/headers';
import { Sampled, TraceContext } from '../trace-context/context';
import { extract } from '../trace-context/extract';
import { PROPAGATION_HEADERS } from '../trace-context/formats';
import { inject } from '../trace-context/inject';
import { formatTraceparent } from '../trace-context/w3c';
import { FilterConfig, readConfig } from './config';
import { finalDecision } from './final-decision';
import { newSpanId, newTraceId } from './ids';
import { FilterMetrics } from './metrics';

let metrics: FilterMetrics | null = null;

function sharedMetrics(): FilterMetrics {
  if (metrics === null) metrics = new FilterMetrics();
  return metrics as FilterMetrics;
}

export class TraceRoot extends RootContext {
  config: FilterConfig = new FilterConfig();
  exporter: Exporter | null = null;

  onConfigure(configSize: u32): bool {
    const bytes = configSize > 0 ? getBufferBytes(BufferType.PluginConfiguration, 0, configSize) : null;
    const text = bytes === null ? '' : String.UTF8.decode(bytes);
    const result = readConfig(text);
    if (result.config === null) {
      log(LogLevel.Error, `meshtrace: config: ${result.error}`);
      return false;
    }
    this.config = result.config as FilterConfig;
    sharedMetrics();
    const exp = this.config.export;
    if (exp !== null) {
      this.exporter = new Exporter(exp, this.config.serviceName);
      setTickPeriod(<u32>exp.flushIntervalMs);
    }
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

/** Removes each propagation header present (one host call per distinct name). */
function removeStale(headers: HeaderPairs): void {
  let removed: u32 = 0; // bit i set = PROPAGATION_HEADERS[i] already removed
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

export class TraceStream extends HttpContext {
  /** The context sent upstream (the proxy's span as parent); null until request headers. */
  private outgoing: TraceContext | null = null;
  /** The caller's span id when a context was continued ("" = this proxy started the trace). */
  private parentSpanId: string = '';
  private startNs: u64 = 0;

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const config = (this.root as TraceRoot).config;
    const m = sharedMetrics();
    m.inc(m.requests);
    this.startNs = nowNanos();
    const headers = getHeaderMapPairs(HeaderMapType.RequestHeaders);
    const result = extract(headers, config.inbound);
    for (let i = 0; i < result.reasons.length; i++) m.invalidContext(result.reasons[i]);

    let ctx: TraceContext;
    if (result.valid) {
      ctx = result.context;
      this.parentSpanId = ctx.spanId;
      m.inc(m.contextsContinued);
    } else {
      ctx = new TraceContext();
      ctx.traceId = newTraceId();
      // Our ids are random, so the Level 2 random flag holds. A lone B3 sampling state is a
      // caller's decision without a context: honour it; otherwise record (no sampler yet).
      ctx.random = true;
      ctx.sampled = result.orphanSampled == Sampled.Unset ? Sampled.Yes : result.orphanSampled;
      ctx.debug = result.orphanDebug;
      m.inc(m.tracesStarted);
    }
    const out = ctx.withSpanId(newSpanId());
    // Baggage headers (baggage, uberctx-*) are application data: they pass through untouched,
    // so the injected set carries none (no duplicates, no re-encoding).
    out.clearBaggage();
    this.outgoing = out;

    removeStale(headers);
    const injected = inject(out, config.outbound);
    for (let i = 0; i < injected.length; i++) {
      replaceHeaderMapValue(HeaderMapType.RequestHeaders, injected.name(i), injected.value(i));
    }
    return FilterHeadersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    const out = this.outgoing;
    if (out !== null && (this.root as TraceRoot).config.traceresponse) {
      // traceresponse has the traceparent shape; its span is the proxy's (the server side here).
      replaceHeaderMapValue(HeaderMapType.ResponseHeaders, 'traceresponse', formatTraceparent(out));
    }
    return FilterHeadersStatus.Continue;
  }

  onLog(): void {
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
    readResponseCode(record);
    const decision = finalDecision(out.sampled == Sampled.Yes, this.parentSpanId.length > 0, record);
    const exporter = root.exporter;
    if (!decision.keep || exporter === null) return;
    fillHttpAttributes(record);
    record.setString('meshtrace.sampling.reason', decision.reason);
    if (decision.threshold.length > 0) record.setString('meshtrace.sampling.threshold', decision.threshold);
    exporter.record(record);
  }
}
