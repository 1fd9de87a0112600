// Forwards spans to any OTLP/HTTP endpoint (a real Jaeger's receiver, an OTel collector) as
// protobuf ExportTraceServiceRequests, without ever slowing or failing the path that feeds it:
//
//   offer(spans) ─▶ bounded queue (≤ maxQueueSpans; beyond → dropped.queueFull)
//                     └▶ one sender: batches of ≤ maxBatchSpans ─POST─▶ endpoint
//                           retryable failure → backoff (exponential, jittered, Retry-After
//                           honoured) up to maxAttempts, then dropped.retriesExhausted
//                           permanent 4xx → dropped.rejected
//
// Retryable per the OTLP spec (§ OTLP/HTTP Failures): 429, 502, 503, 504 and transport errors.
// Encoding reuses the official serializer (@opentelemetry/otlp-transformer) over our spans
// adapted to SDK ReadableSpans.
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { toReadableSpans } from '../../analysis/generate/readable-spans.ts';
import type { Span } from '../../analysis/model.ts';

export interface ForwarderOptions {
  /** Full URL of the OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  endpoint: string;
  /** Extra request headers (e.g. a tenant header). */
  headers?: Record<string, string>;
  maxQueueSpans?: number; // default 20,000
  maxBatchSpans?: number; // default 512
  maxAttempts?: number; // per batch, default 5
  initialBackoffMs?: number; // default 250
  maxBackoffMs?: number; // default 5,000
  timeoutMs?: number; // per request, default 10,000
  /** Instrumentation scope named in the export. */
  scope?: { name: string; version: string };
}

export interface ForwarderStats {
  queued: number;
  sentSpans: number;
  requests: number;
  retries: number;
  dropped: { queueFull: number; retriesExhausted: number; rejected: number };
  lastError: string | null;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`OTLP forwarder: ${name} must be a positive number, got ${v}`);
  return v;
}

export class OtlpForwarder {
  private readonly endpoint: URL;
  private readonly o: Required<Omit<ForwarderOptions, 'endpoint' | 'headers' | 'scope'>>;
  private readonly queue: Span[] = [];
  private sending: Promise<void> | null = null;
  private closed = false;
  private readonly counters: ForwarderStats = {
    queued: 0,
    sentSpans: 0,
    requests: 0,
    retries: 0,
    dropped: { queueFull: 0, retriesExhausted: 0, rejected: 0 },
    lastError: null,
  };

  constructor(private readonly options: ForwarderOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new Error(`OTLP forwarder: endpoint "${options.endpoint}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`OTLP forwarder: endpoint must be http(s), got ${url.protocol}`);
    }
    this.endpoint = url;
    this.o = {
      maxQueueSpans: positive('maxQueueSpans', options.maxQueueSpans, 20_000),
      maxBatchSpans: positive('maxBatchSpans', options.maxBatchSpans, 512),
      maxAttempts: positive('maxAttempts', options.maxAttempts, 5),
      initialBackoffMs: positive('initialBackoffMs', options.initialBackoffMs, 250),
      maxBackoffMs: positive('maxBackoffMs', options.maxBackoffMs, 5000),
      timeoutMs: positive('timeoutMs', options.timeoutMs, 10_000),
    };
  }

  /** Queues spans for export; what does not fit is dropped and counted. Never throws. */
  offer(spans: readonly Span[]): number {
    if (this.closed) {
      this.counters.dropped.queueFull += spans.length;
      return 0;
    }
    const room = Math.max(0, this.o.maxQueueSpans - this.queue.length);
    const taken = Math.min(room, spans.length);
    for (let i = 0; i < taken; i++) this.queue.push(spans[i]!);
    this.counters.dropped.queueFull += spans.length - taken;
    this.counters.queued = this.queue.length;
    if (taken > 0) this.kick();
    return taken;
  }

  private kick(): void {
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
      if (this.queue.length > 0 && !this.closed) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.o.maxBatchSpans);
      this.counters.queued = this.queue.length;
      await this.sendBatch(batch);
    }
  }

  private async sendBatch(batch: Span[]): Promise<void> {
    let body: Uint8Array | undefined;
    try {
      body = ProtobufTraceSerializer.serializeRequest(
        toReadableSpans(batch, this.options.scope ?? { name: 'meshtrace-forwarder', version: '0.1.0' }),
      );
    } catch (err) {
      this.counters.lastError = `encoding failed: ${(err as Error).message}`;
    }
    if (!body) {
      this.counters.dropped.rejected += batch.length;
      return;
    }
    let backoff = this.o.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      const r = await this.post(body);
      if (r.ok) {
        this.counters.sentSpans += batch.length;
        return;
      }
      this.counters.lastError = r.error;
      if (!r.retryable) {
        this.counters.dropped.rejected += batch.length;
        return;
      }
      if (attempt >= this.o.maxAttempts) {
        this.counters.dropped.retriesExhausted += batch.length;
        return;
      }
      this.counters.retries++;
      // Full jitter keeps many forwarders from retrying in lockstep; Retry-After wins when given.
      const wait = r.retryAfterMs ?? Math.random() * backoff;
      await new Promise((res) => setTimeout(res, Math.min(wait, this.o.maxBackoffMs)));
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs);
    }
  }

  private async post(
    body: Uint8Array,
  ): Promise<{ ok: true } | { ok: false; retryable: boolean; error: string; retryAfterMs?: number }> {
    this.counters.requests++;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...this.options.headers },
        body: new Uint8Array(body), // an ArrayBuffer-backed copy, as fetch's BodyInit wants
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined); // drain the body so the socket is reused
      if (res.ok) return { ok: true };
      const ra = res.headers.get('retry-after');
      const secs = ra !== null && /^\d+$/.test(ra) ? Number(ra) : undefined;
      return {
        ok: false,
        retryable: RETRYABLE.has(res.status),
        error: `${this.endpoint.href}: HTTP ${res.status}`,
        retryAfterMs: secs === undefined ? undefined : secs * 1000,
      };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, retryable: true, error: `${this.endpoint.href}: ${e.cause?.code ?? e.message}` };
    }
  }

  /** Resolves when everything queued so far was sent or counted as dropped. */
  async flush(): Promise<void> {
    while (this.sending || this.queue.length > 0) {
      if (!this.sending) this.kick();
      await this.sending;
    }
  }

  stats(): ForwarderStats {
    return { ...this.counters, queued: this.queue.length, dropped: { ...this.counters.dropped } };
  }

  /** Flushes, then refuses new spans (counted as dropped). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
