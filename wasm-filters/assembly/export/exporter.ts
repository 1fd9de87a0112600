// Span export: a bounded queue of encoded spans, flushed as OTLP/HTTP requests through Envoy
// (proxy_http_call to the configured cluster) when a batch is full and on every tick.
//
//   on_log ──record()──► [ queue ≤ queue_size spans ] ──flush()──► http_call (≤ max_in_flight)
//              │ full: drop, queue_full                               │ 2xx: spans_exported
//              │ unencodable: drop, encode_error                      │ 504 / no answer by the
//                                                                     │   timeout: collector_timeout
//                                                                     │ other: collector_error
// Nothing here ever waits: the request path only encodes and enqueues, a failed batch is
// dropped and counted (never retried), and the queue bound caps memory whatever the collector does.
import { HeaderMapType, LogLevel, MetricType } from '../abi/enums';
import { HeaderPairs, encodeHeaderMap } from '../abi/headers';
import { defineMetric, getHeaderMapValue, httpCall, incrementMetric, log } from '../abi/hostcalls';
import { nowNanos } from '../abi/wasi';
import { ByteWriter } from './byte-writer';
import { Encoding, ExportConfig } from './config';
import { encodeBatchJson, encodeResourceJson, encodeSpanJson } from './otlp-json';
import { encodeBatchProto, encodeResourceProto, encodeSpanProto } from './otlp-proto';
import { SpanRecord } from './span-record';

/** Export counters, one set per VM (`wasmcustom.meshtrace.export.*` in Envoy's /stats). */
class ExportMetrics {
  readonly exported: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.spans_exported');
  readonly queueFull: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.spans_dropped.queue_full');
  readonly collectorError: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.spans_dropped.collector_error');
  readonly collectorTimeout: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.spans_dropped.collector_timeout');
  readonly encodeError: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.spans_dropped.encode_error');
  readonly requests: u32 = defineMetric(MetricType.Counter, 'meshtrace.export.requests');
}

let exportMetrics: ExportMetrics | null = null;

function metrics(): ExportMetrics {
  if (exportMetrics === null) exportMetrics = new ExportMetrics();
  return exportMetrics as ExportMetrics;
}

function add(id: u32, n: i32): void {
  if (n > 0) incrementMetric(id, n);
}

export class Exporter {
  private readonly resource: ArrayBuffer;
  private readonly headers: ArrayBuffer;
  // Ring of encoded span bodies: `count` spans starting at `head`.
  private readonly ring: StaticArray<ArrayBuffer | null>;
  private head: i32 = 0;
  private count: i32 = 0;
  private readonly spanWriter: ByteWriter = new ByteWriter(1024);
  private readonly batchWriter: ByteWriter = new ByteWriter(16384);
  private readonly batch: ArrayBuffer[] = [];
  // Outstanding export requests: token, spans carried, send time.
  private readonly tokens: u32[] = [];
  private readonly carried: i32[] = [];
  private readonly sentNs: u64[] = [];
  /** Log the first failure of a run of failures only (a down collector must not flood logs). */
  private failing: bool = false;

  constructor(
    readonly config: ExportConfig,
    serviceName: string,
  ) {
    const json = config.encoding == Encoding.Json;
    this.resource = json ? encodeResourceJson(serviceName) : encodeResourceProto(serviceName);
    const h = new HeaderPairs();
    h.push(':method', 'POST');
    h.push(':path', config.path);
    h.push(':authority', config.authority);
    h.push('content-type', json ? 'application/json' : 'application/x-protobuf');
    this.headers = encodeHeaderMap(h);
    this.ring = new StaticArray<ArrayBuffer | null>(config.queueSize);
    metrics();
  }

  get queued(): i32 {
    return this.count;
  }

  get inFlight(): i32 {
    return this.tokens.length;
  }

  /** Encodes and enqueues a kept span; sends a batch at once when one is full. */
  record(span: SpanRecord): void {
    const m = metrics();
    if (this.count >= this.config.queueSize) {
      add(m.queueFull, 1);
      return;
    }
    const w = this.spanWriter;
    w.reset();
    const ok = this.config.encoding == Encoding.Json ? encodeSpanJson(w, span) : encodeSpanProto(w, span);
    if (!ok) {
      add(m.encodeError, 1);
      return;
    }
    this.ring[(this.head + this.count) % this.config.queueSize] = w.take();
    this.count++;
    if (this.count >= this.config.batchSize) this.flush(false);
  }

  /** Sends full batches (and, when `partial`, the remainder) while requests may be outstanding. */
  flush(partial: bool): void {
    while (this.count > 0 && this.tokens.length < this.config.maxInFlight) {
      if (!partial && this.count < this.config.batchSize) return;
      this.sendOne();
    }
  }

  private sendOne(): void {
    const m = metrics();
    const n = min(this.count, this.config.batchSize);
    const batch = this.batch;
    batch.length = 0;
    for (let i = 0; i < n; i++) {
      const slot = (this.head + i) % this.config.queueSize;
      batch.push(this.ring[slot] as ArrayBuffer);
      this.ring[slot] = null;
    }
    this.head = (this.head + n) % this.config.queueSize;
    this.count -= n;

    const w = this.batchWriter;
    w.reset();
    if (this.config.encoding == Encoding.Json) encodeBatchJson(w, this.resource, batch, 0, n);
    else encodeBatchProto(w, this.resource, batch, 0, n);
    batch.length = 0;
    const token = httpCall(this.config.cluster, this.headers, w.buf, w.pos, <u32>this.config.timeoutMs);
    if (token < 0) {
      this.failed(`http_call to cluster "${this.config.cluster}" refused (export.cluster unknown to Envoy?)`);
      add(m.collectorError, n);
      return;
    }
    add(m.requests, 1);
    this.tokens.push(<u32>token);
    this.carried.push(n);
    this.sentNs.push(nowNanos());
  }

  /** The collector's answer (or Envoy's failure notice) for one export request. */
  onResponse(token: u32, headerCount: u32): void {
    const i = this.tokens.indexOf(token);
    if (i < 0) return;
    const n = this.carried[i];
    const elapsedMs = <i64>((nowNanos() - this.sentNs[i]) / 1_000_000);
    this.tokens.splice(i, 1);
    this.carried.splice(i, 1);
    this.sentNs.splice(i, 1);
    const m = metrics();
    const header: string | null =
      headerCount == 0 ? null : getHeaderMapValue(HeaderMapType.HttpCallResponseHeaders, ':status');
    const status = header === null ? '' : (header as string);
    if (status.length == 3 && status.charCodeAt(0) == 0x32) {
      add(m.exported, n);
      this.failing = false;
    } else if (status == '504' || (status.length == 0 && elapsedMs >= <i64>this.config.timeoutMs)) {
      // Envoy's async client answers its own timeout with a local 504.
      add(m.collectorTimeout, n);
      this.failed(`collector did not answer within ${this.config.timeoutMs}ms; ${n} spans dropped`);
    } else {
      add(m.collectorError, n);
      const what = status.length == 0 ? 'nothing (connection failed)' : status;
      this.failed(`collector answered ${what}; ${n} spans dropped`);
    }
    // A free slot: send what waited for it.
    this.flush(false);
  }

  private failed(what: string): void {
    if (this.failing) return;
    this.failing = true;
    log(LogLevel.Warn, `meshtrace: export: ${what} (further failures are counted, not logged, until one succeeds)`);
  }
}
