// The collector process in one call: OTLP/HTTP and OTLP/gRPC receivers → bounded SpanQueue → a
// TraceStore (DuckDB under dataDir by default), plus periodic retention.
//
//   exporter ──HTTP──┐                              ┌─ append(batch) ─▶ TraceStore
//   exporter ──gRPC──┴▶ decode to spans ▶ SpanQueue (≤ queueCapacitySpans)
//                         │    └ invalid spans → partial_success
//                         └ queue full → 429 / RESOURCE_EXHAUSTED + retry hint
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import { openDuckDBStore } from '../store/duckdb-store.ts';
import type { TraceStore } from '../store/trace-store.ts';
import { bindGrpc, createGrpcReceiver, type GrpcReceiverCounters } from './grpc-receiver.ts';
import { createHttpReceiver, type HttpReceiverCounters } from './http-receiver.ts';
import { type LinkingJob, type LinkingJobStats, startLinkingJob } from './linking-job.ts';
import { type IngestCounters, newIngestCounters } from './ingest.ts';
import { type CollectorOptions, normalizeOptions } from './options.ts';
import { type SpanQueueCounters, SpanQueue } from './span-queue.ts';

const CLOSE_GRACE_MS = 5000;

export interface CollectorStats extends IngestCounters, SpanQueueCounters {
  queueDepth: number;
  queueCapacity: number;
  http: HttpReceiverCounters;
  grpc: GrpcReceiverCounters;
  retention: { runs: number; deletedTraces: number; deletedSpans: number; errors: number };
  /** Offline linking; null when off (or the store cannot rewrite spans). */
  linking: LinkingJobStats | null;
}

export interface Collector {
  store: TraceStore;
  /** Bound ports (null when that receiver is disabled). */
  httpPort: number | null;
  grpcPort: number | null;
  stats(): CollectorStats;
  /** Resolves once every span accepted so far is in the store (or counted lost). */
  flush(): Promise<void>;
  /** Decides the next settled window of calls now (tests, benches); resolves when written. */
  linkNow(nowUs?: number): Promise<void>;
  /** Stops the receivers, drains the queue, stops retention and closes the store it opened. */
  close(): Promise<void>;
}

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const opts = normalizeOptions(options);
  const ownsStore = opts.store === undefined;
  const store = opts.store ?? (await openDuckDBStore({ dataDir: opts.dataDir }));
  const counters = newIngestCounters();
  const http: HttpReceiverCounters = { requests: 0, inFlightBytes: 0, responses: {} };
  const grpc: GrpcReceiverCounters = { requests: 0, responses: {} };
  const retention = { runs: 0, deletedTraces: 0, deletedSpans: 0, errors: 0 };
  const queue = new SpanQueue(
    opts.queueCapacitySpans,
    opts.maxBatchSpans,
    (batch) => store.append(batch),
    (err, lost) => opts.onError(`store append failed, ${lost} span(s) lost: ${(err as Error).message}`),
  );

  let httpServer: HttpServer | null = null;
  let grpcServer: GrpcServer | null = null;
  let httpPort: number | null = null;
  let grpcPort: number | null = null;
  let timer: NodeJS.Timeout | null = null;

  const stopReceivers = async () => {
    if (timer) clearInterval(timer);
    const hs = httpServer;
    if (hs) {
      // requests in progress get a grace period to finish, then their connections are cut
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => hs.closeAllConnections(), CLOSE_GRACE_MS);
        hs.close(() => {
          clearTimeout(force);
          resolve();
        });
        hs.closeIdleConnections();
      });
    }
    const gs = grpcServer;
    if (gs) await new Promise<void>((resolve) => gs.tryShutdown(() => resolve()));
  };

  try {
    if (opts.httpPort !== false) {
      const hs = createHttpReceiver(opts, queue, counters, http);
      httpServer = hs;
      await new Promise<void>((resolve, reject) => {
        hs.once('error', (err) =>
          reject(new Error(`OTLP/HTTP receiver could not bind ${opts.host}:${opts.httpPort}: ${err.message}`)),
        );
        hs.listen(opts.httpPort as number, opts.host, () => resolve());
      });
      hs.on('error', (err) => opts.onError(`OTLP/HTTP server error: ${err.message}`));
      httpPort = (hs.address() as AddressInfo).port;
    }
    if (opts.grpcPort !== false) {
      grpcServer = createGrpcReceiver(opts, queue, counters, grpc);
      grpcPort = await bindGrpc(grpcServer, opts.host, opts.grpcPort);
    }
  } catch (err) {
    await stopReceivers();
    if (ownsStore) await store.close();
    throw err;
  }

  const { maxAgeMs, maxBytes, intervalMs } = opts.retention;
  if (maxAgeMs !== undefined || maxBytes !== undefined) {
    let running = false;
    timer = setInterval(() => {
      if (running) return;
      running = true;
      store
        .enforceRetention({ maxAgeMs, maxBytes })
        .then((r) => {
          retention.runs++;
          retention.deletedTraces += r.deletedTraces;
          retention.deletedSpans += r.deletedSpans;
        })
        .catch((err) => {
          retention.errors++;
          opts.onError(`retention failed: ${(err as Error).message}`);
        })
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
  }

  const linking: LinkingJob | null =
    opts.linking !== false && store.relinkSpans ? startLinkingJob(store, opts.linking, opts.onError) : null;

  let closing: Promise<void> | null = null;
  return {
    store,
    httpPort,
    grpcPort,
    stats: () => ({
      ...counters,
      ...queue.counters,
      queueDepth: queue.depth,
      queueCapacity: queue.capacitySpans,
      http: { requests: http.requests, inFlightBytes: http.inFlightBytes, responses: { ...http.responses } },
      grpc: { requests: grpc.requests, responses: { ...grpc.responses } },
      retention: { ...retention },
      linking: linking?.stats() ?? null,
    }),
    linkNow: (nowUs) => linking?.runOnce(nowUs) ?? Promise.resolve(),
    flush: () => queue.drained(),
    close: () => {
      closing ??= (async () => {
        await stopReceivers();
        await queue.drained();
        await linking?.stop();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
