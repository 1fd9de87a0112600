// Assembles the service: config → telemetry, enricher, propagation → one gRPC server exposing
// ExternalProcessor, Authorization and grpc.health.v1.Health (both `meshtrace ext-proc` and
// `meshtrace ext-authz` serve both APIs; the command names which one the operator means, for
// logs and the health service name).
//
// Shutdown (SIGTERM/SIGINT or stop()): health flips to NOT_SERVING so Envoy's health checker and
// load balancers move away, the server stops accepting new calls, open streams get up to
// shutdown.drainMs to finish (Envoy ends each when its request ends), then the rest are
// cancelled — their spans still end (reason "cancelled") — and the exporter is flushed.
import * as grpc from '@grpc/grpc-js';
import { checkHandler } from './authz.ts';
import type { ServiceConfig } from './config.ts';
import { Enricher } from './enrich/index.ts';
import { type ProcessorDeps, processHandler } from './ext-proc.ts';
import { jsonLogger, type Logger } from './log.ts';
import { Metrics, serveMetrics } from './metrics.ts';
import { codecPropagation } from './propagation.ts';
import { loadServices } from './protos.ts';
import type { ProcessingRequest } from './envoy-types.ts';
import { HopTracer } from './hop-trace.ts';
import { decodeProcessingRequest } from './processing-codec.ts';

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** Health service names answered (besides "" for the whole server). */
export const HEALTH_SERVICES = ['envoy.service.ext_proc.v3.ExternalProcessor', 'envoy.service.auth.v3.Authorization'];

export interface RunningService {
  port: number;
  metricsPort?: number;
  metrics: Metrics;
  /** Drains and stops; resolves when everything (including span export) is done. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startService(cfg: ServiceConfig, opts: StartOptions = {}): Promise<RunningService> {
  const logger = opts.logger ?? jsonLogger(cfg.log.level);
  const metrics = new Metrics();
  const propagation = codecPropagation(cfg.propagation.extract);
  const hop = new HopTracer(cfg, propagation, metrics);
  metrics.external = () => {
    const c = hop.tracing?.counters();
    const s = hop.sampler.counters;
    return {
      spans_exported_total: c?.export.exported ?? 0,
      spans_export_failed_total: c?.export.failed ?? 0,
      spans_dropped_queue_full_total: c?.export.queueFull ?? 0,
      spans_discarded_by_sampling_total: c?.decisions.discarded ?? 0,
      sampling_requests_total: s.requests,
    };
  };
  const deps: ProcessorDeps = { cfg, hop, enricher: new Enricher(cfg, metrics), propagation, metrics, logger };
  const services = loadServices();
  const server = new grpc.Server({
    // Bounded messages: a buffered GraphQL body plus headers fits well within this.
    'grpc.max_receive_message_length': Math.max(4 * 1024 * 1024, (cfg.enrich.graphql?.maxBodyBytes ?? 0) * 2),
  });
  let health: ServingStatus = 'SERVING';
  const watchers = new Set<grpc.ServerWritableStream<{ service?: string }, { status: string }>>();
  const known = (svc: string | undefined) => !svc || HEALTH_SERVICES.includes(svc);

  // Process speaks through processing-codec.ts (decoded requests in, encoded answers out); the
  // rest of the definition, and every other method, is proto-loader's.
  const processMethod: grpc.MethodDefinition<ProcessingRequest, Buffer> = {
    ...(services.extProc.Process as grpc.MethodDefinition<ProcessingRequest, Buffer>),
    requestDeserialize: decodeProcessingRequest,
    responseSerialize: (answer: Buffer) => answer,
  };
  server.addService({ ...services.extProc, Process: processMethod }, { Process: processHandler(deps) });
  server.addService(services.authorization, { Check: checkHandler(deps) });
  server.addService(services.health, {
    Check: (call: grpc.ServerUnaryCall<{ service?: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (!known(call.request.service))
        cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else cb(null, { status: health });
    },
    Watch: (call: grpc.ServerWritableStream<{ service?: string }, { status: string }>) => {
      call.write({ status: known(call.request.service) ? health : 'SERVICE_UNKNOWN' });
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${cfg.listen.host}:${cfg.listen.port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(new Error(`cannot listen on ${cfg.listen.host}:${cfg.listen.port}: ${err.message}`)) : resolve(p),
    ),
  );
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (cfg.metrics.port !== undefined) metricsServer = await serveMetrics(metrics, cfg.metrics.host, cfg.metrics.port);
  logger.log('info', 'meshtrace ext service listening', {
    address: `${cfg.listen.host}:${port}`,
    mode: cfg.mode,
    metrics_port: metricsServer?.port,
    otlp: cfg.otlp.endpoint ?? null,
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      health = 'NOT_SERVING';
      for (const w of watchers) {
        w.write({ status: health });
        w.end();
      }
      logger.log('info', 'draining', { active_streams: metrics.activeStreams, drain_ms: cfg.shutdown.drainMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          logger.log('warn', 'drain timeout: cancelling open streams', { active_streams: metrics.activeStreams });
          server.forceShutdown();
          resolve();
        }, cfg.shutdown.drainMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await hop.flush().catch(() => undefined);
      await hop.shutdown().catch(() => undefined);
      if (metricsServer) await new Promise<void>((r) => metricsServer?.server.close(() => r()));
      logger.log('info', 'stopped', metrics.snapshot());
    })();
    return stopping;
  };
  return { port, metricsPort: metricsServer?.port, metrics, stop };
}
