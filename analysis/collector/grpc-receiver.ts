// OTLP/gRPC trace receiver: opentelemetry.proto.collector.trace.v1.TraceService/Export (unary).
// The request arrives as raw bytes and is decoded here, so a malformed message becomes
// INVALID_ARGUMENT with the decoder's reason instead of a framework error. OTLP spec
// "OTLP/gRPC Throttling": when the queue is full the server answers RESOURCE_EXHAUSTED with a
// google.rpc.RetryInfo in the status details (trailer grpc-status-details-bin) — clients retry
// RESOURCE_EXHAUSTED only when that hint is present. Oversized messages are refused by grpc-js
// itself (grpc.max_receive_message_length → RESOURCE_EXHAUSTED without a hint: do not retry).
import {
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import { encodeExportResponse, encodeRpcStatus } from '../otlp/codec.ts';
import { decodeProtobufSpans } from '../otlp/decode-spans.ts';
import { busy, type IngestCounters, ingest } from './ingest.ts';
import type { NormalizedOptions } from './options.ts';
import type { SpanQueue } from './span-queue.ts';

export const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const identity = (b: Buffer): Buffer => b;

export const traceServiceDefinition: ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'Export',
  },
};

export interface GrpcReceiverCounters {
  requests: number;
  /** Responses by gRPC status name. */
  responses: Record<string, number>;
}

export function createGrpcReceiver(
  opts: NormalizedOptions,
  queue: SpanQueue,
  counters: IngestCounters,
  grpc: GrpcReceiverCounters,
): Server {
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxRequestBytes,
    'grpc.max_send_message_length': 1024 * 1024,
  });
  const count = (code: status) => {
    const name = status[code] ?? String(code);
    grpc.responses[name] = (grpc.responses[name] ?? 0) + 1;
  };
  const exhausted = (message: string) => {
    const metadata = new Metadata();
    const delayMs = opts.retryAfterSeconds * 1000;
    metadata.set(
      'grpc-status-details-bin',
      Buffer.from(encodeRpcStatus(status.RESOURCE_EXHAUSTED, message, 'protobuf', delayMs)),
    );
    count(status.RESOURCE_EXHAUSTED);
    return { code: status.RESOURCE_EXHAUSTED, details: message, metadata };
  };

  const exportHandler: handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    grpc.requests++;
    try {
      if (busy(queue, counters)) {
        callback(exhausted(`collector queue is full (${queue.depth}/${queue.capacitySpans} spans); retry later`));
        return;
      }
      const decoded = decodeProtobufSpans(call.request, opts.spanLimits);
      if (!decoded.ok) {
        count(status.INVALID_ARGUMENT);
        callback({ code: status.INVALID_ARGUMENT, details: decoded.error });
        return;
      }
      const result = ingest(decoded.conversion, queue, counters);
      if (result.kind === 'busy') {
        callback(
          exhausted(
            `collector queue cannot take this request now (${queue.depth}/${queue.capacitySpans} spans queued); retry later`,
          ),
        );
        return;
      }
      count(status.OK);
      callback(null, Buffer.from(encodeExportResponse(result.rejected, result.errorMessage, 'protobuf')));
    } catch (err) {
      opts.onError(`OTLP/gRPC request failed: ${(err as Error).stack ?? String(err)}`);
      count(status.INTERNAL);
      callback({ code: status.INTERNAL, details: `internal error: ${(err as Error).message}` });
    }
  };

  server.addService(traceServiceDefinition, { Export: exportHandler });
  return server;
}

export function bindGrpc(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(new Error(`OTLP/gRPC receiver could not bind ${host}:${port}: ${err.message}`));
      else resolve(bound);
    });
  });
}
