// Collector configuration, normalised once at start with one clear error per bad field.
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from '../otlp/limits.ts';
import type { RetentionPolicy, TraceStore } from '../store/trace-store.ts';
import type { LinkingJobOptions } from './linking-job.ts';

export interface CollectorOptions {
  /** Where the embedded DuckDB store keeps its file. Required unless `store` is given. */
  dataDir?: string;
  /** Use this store instead of opening DuckDB under dataDir (the collector then does not close it). */
  store?: TraceStore;
  /** OTLP/HTTP port (default 4318, 0 = any free port, false = no HTTP receiver). */
  httpPort?: number | false;
  /** OTLP/gRPC port (default 4317, 0 = any free port, false = no gRPC receiver). */
  grpcPort?: number | false;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Largest request body, compressed and decompressed (default 4 MiB). */
  maxRequestBytes?: number;
  /** Request bodies buffered at once across all OTLP/HTTP connections before new ones get 429 (default 64 MiB). */
  maxInFlightBytes?: number;
  /** Spans held between receivers and the store before clients are told to retry (default 100,000). */
  queueCapacitySpans?: number;
  /** Most spans written to the store in one batch (default 20,000). */
  maxBatchSpans?: number;
  /** Retry hint sent with 429 / RESOURCE_EXHAUSTED (default 1 s). */
  retryAfterSeconds?: number;
  /** Retention applied every `intervalMs` (default 60 s) when maxAgeMs or maxBytes is set. */
  retention?: RetentionPolicy & { intervalMs?: number };
  spanLimits?: Partial<SpanLimits>;
  /**
   * Offline linking of calls the sidecars left provisional or guessed (linking-job.ts); false
   * turns it off. On by default: it only touches spans of workloads with online linking.
   */
  linking?: LinkingJobOptions | false;
  /** Where store failures and other non-request problems are reported (default console.error, at most every 10 s). */
  onError?: (message: string) => void;
}

export interface NormalizedOptions {
  dataDir?: string;
  store?: TraceStore;
  httpPort: number | false;
  grpcPort: number | false;
  host: string;
  maxRequestBytes: number;
  maxInFlightBytes: number;
  queueCapacitySpans: number;
  maxBatchSpans: number;
  retryAfterSeconds: number;
  retention: RetentionPolicy & { intervalMs: number };
  spanLimits: SpanLimits;
  linking: LinkingJobOptions | false;
  onError: (message: string) => void;
}

function positiveInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`collector option ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function port(name: string, v: unknown, dflt: number): number | false {
  if (v === undefined) return dflt;
  if (v === false) return false;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new Error(`collector option ${name} must be a port 0-65535 or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

function throttled(): (message: string) => void {
  let last = 0;
  let suppressed = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < 10_000) {
      suppressed++;
      return;
    }
    console.error(`[meshtrace collector] ${message}${suppressed > 0 ? ` (+${suppressed} similar suppressed)` : ''}`);
    last = now;
    suppressed = 0;
  };
}

export function normalizeOptions(o: CollectorOptions): NormalizedOptions {
  if (o.store === undefined && (typeof o.dataDir !== 'string' || o.dataDir === '')) {
    throw new Error('collector option dataDir is required (a directory for the trace store) unless store is given');
  }
  const httpPort = port('httpPort', o.httpPort, 4318);
  const grpcPort = port('grpcPort', o.grpcPort, 4317);
  if (httpPort === false && grpcPort === false) throw new Error('collector: httpPort and grpcPort are both false');
  const r = o.retention ?? {};
  for (const k of ['maxAgeMs', 'maxBytes'] as const) {
    const v = r[k];
    if (v !== undefined && (typeof v !== 'number' || !(v > 0))) {
      throw new Error(`collector option retention.${k} must be a positive number, got ${JSON.stringify(v)}`);
    }
  }
  const limits = { ...DEFAULT_SPAN_LIMITS };
  for (const [k, v] of Object.entries(o.spanLimits ?? {})) {
    if (!(k in limits))
      throw new Error(`collector option spanLimits.${k} is unknown (known: ${Object.keys(limits).join(', ')})`);
    limits[k as keyof SpanLimits] = positiveInt(`spanLimits.${k}`, v, 1);
  }
  return {
    dataDir: o.dataDir,
    store: o.store,
    httpPort,
    grpcPort,
    host: o.host ?? '127.0.0.1',
    maxRequestBytes: positiveInt('maxRequestBytes', o.maxRequestBytes, 4 * 1024 * 1024),
    maxInFlightBytes: positiveInt('maxInFlightBytes', o.maxInFlightBytes, 64 * 1024 * 1024),
    queueCapacitySpans: positiveInt('queueCapacitySpans', o.queueCapacitySpans, 100_000),
    maxBatchSpans: positiveInt('maxBatchSpans', o.maxBatchSpans, 20_000),
    retryAfterSeconds: positiveInt('retryAfterSeconds', o.retryAfterSeconds, 1),
    retention: { ...r, intervalMs: positiveInt('retention.intervalMs', r.intervalMs, 60_000) },
    spanLimits: limits,
    linking: normalizeLinking(o.linking),
    onError: o.onError ?? throttled(),
  };
}

function normalizeLinking(l: LinkingJobOptions | false | undefined): LinkingJobOptions | false {
  if (l === false) return false;
  const out: LinkingJobOptions = {};
  for (const [k, v] of Object.entries(l ?? {})) {
    if (k === 'threshold') {
      if (typeof v !== 'number' || !(v >= 0.5 && v <= 1))
        throw new Error(`collector option linking.threshold must be within [0.5, 1], got ${JSON.stringify(v)}`);
      out.threshold = v;
    } else if (['intervalMs', 'settleMs', 'lookbackMs', 'trainingSpans', 'maxSpans'].includes(k)) {
      out[k as 'intervalMs'] = positiveInt(`linking.${k}`, v, 1);
    } else throw new Error(`collector option linking.${k} is unknown`);
  }
  return out;
}
