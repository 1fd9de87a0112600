// OTLP/HTTP protobuf export of spans encoded the moment they end (otlp-span-encoder.ts):
//
//   add(span) ─→ bytes appended to the open batch ─→ sealed at max_batch_size spans or after
//   flush_interval_ms ─→ POST <otlp_url> (application/x-protobuf), one batch at a time
//
// Bounded like the SDK pipeline it replaces for the gateway: at most `maxQueueSize` spans are
// accepted and not yet exported; past that a span is dropped and counted (queueFull), so a slow
// or dead collector costs a counter, never memory or request latency. A batch is retried on the
// answers OTLP/HTTP calls retryable (429, 502, 503, 504) and on connection errors, at most
// `maxAttempts` times with exponential back-off, each attempt bounded by `timeoutMs`. Nothing
// here throws into the caller: add() counts an encoding failure and returns.
import http from 'node:http';
import https from 'node:https';
import type { ExportCounters } from './counting-exporter.ts';
import { type EncodeLimits, RequestFrame, SPANS_FIELD, type SpanRecord, writeSpan } from './otlp-span-encoder.ts';
import { ProtoWriter } from './proto-writer.ts';

export interface EncodedExportOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  url: string;
  resource: Record<string, string>;
  scope: { name: string; version?: string };
  limits: EncodeLimits;
  maxQueueSize: number;
  maxBatchSize: number;
  flushIntervalMs: number;
  timeoutMs: number;
  /** Attempts per batch on retryable failures (default 3). */
  maxAttempts?: number;
}

export interface EncodedExportCounters extends ExportCounters {
  /** Spans whose encoding threw (a bug, never a request's failure). */
  encodeErrors: number;
  /** Export attempts retried. */
  retries: number;
}

interface Batch {
  body: Buffer;
  spans: number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
/** A batch's bytes are capped too: a span with many long attributes must not grow one without bound. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export class EncodedSpanExporter {
  readonly counters: EncodedExportCounters = {
    exported: 0,
    failed: 0,
    queueFull: 0,
    inFlight: 0,
    encodeErrors: 0,
    retries: 0,
  };
  private readonly frame: RequestFrame;
  private readonly writer = new ProtoWriter();
  private openSpans = 0;
  private readonly sealed: Batch[] = [];
  private sending = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly maxAttempts: number;
  private idle: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: EncodedExportOptions) {
    this.target = new URL(o.url);
    this.frame = new RequestFrame(o.resource, o.scope);
    this.maxAttempts = Math.max(1, o.maxAttempts ?? 3);
    const Agent = this.target.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Queues a finished span for export (or counts it dropped). Never throws. */
  add(span: SpanRecord): void {
    const c = this.counters;
    if (c.inFlight >= this.o.maxQueueSize || this.closed) {
      c.queueFull++;
      return;
    }
    const w = this.writer;
    const before = w.pos;
    try {
      writeSpan(w, SPANS_FIELD, span, this.o.limits);
    } catch {
      w.pos = before;
      c.encodeErrors++;
      return;
    }
    c.inFlight++;
    this.openSpans++;
    if (this.openSpans >= this.o.maxBatchSize || w.pos >= MAX_BATCH_BYTES) this.seal();
    else if (this.timer === null) {
      this.timer = setTimeout(() => this.seal(), this.o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Sends everything queued; resolves once nothing is left in flight. */
  forceFlush(): Promise<void> {
    this.seal();
    if (!this.sending && this.sealed.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Sends what is queued, one attempt per batch (no back-off at exit), then refuses new spans. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await this.forceFlush();
    this.agent.destroy();
  }

  private seal(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.openSpans === 0) return;
    const spans = this.writer.view();
    this.sealed.push({ body: Buffer.concat([this.frame.frame(spans.length), spans]), spans: this.openSpans });
    this.writer.reset();
    this.openSpans = 0;
    this.pump();
  }

  private pump(): void {
    if (this.sending) return;
    const batch = this.sealed.shift();
    if (batch === undefined) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
      return;
    }
    this.sending = true;
    this.attempt(batch, 1);
  }

  private attempt(batch: Batch, n: number): void {
    const done = (ok: boolean, retryable: boolean) => {
      if (!ok && retryable && n < this.maxAttempts && !this.closed) {
        this.counters.retries++;
        // 100 ms, 200 ms, … with jitter, so gateways that lost one collector do not return in step.
        const delay = 100 * 2 ** (n - 1) * (0.5 + Math.random());
        setTimeout(() => this.attempt(batch, n + 1), delay).unref();
        return;
      }
      const c = this.counters;
      c.inFlight -= batch.spans;
      if (ok) c.exported += batch.spans;
      else c.failed += batch.spans;
      this.sending = false;
      this.pump();
    };
    let settled = false;
    const settle = (ok: boolean, retryable: boolean) => {
      if (settled) return;
      settled = true;
      done(ok, retryable);
    };
    try {
      const send = this.target.protocol === 'https:' ? https.request : http.request;
      const req = send(this.target, {
        method: 'POST',
        agent: this.agent,
        timeout: this.o.timeoutMs,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': batch.body.length },
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => settle(status >= 200 && status < 300, RETRYABLE.has(status)));
        res.on('error', () => settle(false, true));
      });
      req.on('timeout', () => req.destroy(new Error(`OTLP export timed out after ${this.o.timeoutMs} ms`)));
      req.on('error', () => settle(false, true));
      req.end(batch.body);
    } catch {
      settle(false, false);
    }
  }
}
