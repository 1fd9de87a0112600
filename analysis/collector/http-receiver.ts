// OTLP/HTTP trace receiver (OTLP spec "OTLP/HTTP"):
//   1. only POST /v1/traces (404 elsewhere, 405 for other methods);
//   2. Content-Type application/x-protobuf or application/json, else 415;
//   3. Content-Encoding gzip, deflate or identity, else 415; the body is bounded before and after
//      decompression (413 with the limit named);
//   4. while the queue is full, or request bodies being read already hold maxInFlightBytes → 429
//      with Retry-After and a google.rpc.Status carrying RetryInfo;
//   5. malformed payload → 400 with the decoder's reason;
//   6. otherwise 200 with ExportTraceServiceResponse in the request's encoding, partial_success
//      set when some spans were rejected.
// Error bodies are google.rpc.Status in the request's encoding (JSON when it is unknown).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { type Encoding, encodeExportResponse, encodeRpcStatus } from '../otlp/codec.ts';
import { decodeSpans } from '../otlp/decode-spans.ts';
import { RpcCode } from '../otlp/schema.ts';
import { busy, type IngestCounters, ingest } from './ingest.ts';
import type { NormalizedOptions } from './options.ts';
import type { SpanQueue } from './span-queue.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export const TRACES_PATH = '/v1/traces';

// Past the limit the body is read and discarded up to this much more so the client sees the 413
// instead of a reset connection; beyond it the connection is cut.
const DISCARD_ALLOWANCE = 16 * 1024 * 1024;

export interface HttpReceiverCounters {
  requests: number;
  /** Request body bytes being read right now. */
  inFlightBytes: number;
  /** Responses by status code. */
  responses: Record<string, number>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function encodingOf(contentType: string | undefined): Encoding | null {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mime === 'application/x-protobuf') return 'protobuf';
  if (mime === 'application/json') return 'json';
  return null;
}

/** Where request bytes buffered right now across all connections are counted (≤ maxInFlightBytes). */
interface InFlight {
  inFlightBytes: number;
}

function readBody(
  req: IncomingMessage,
  limit: number,
  inFlight: InFlight,
  inFlightLimit: number,
  retryAfterSeconds: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = () =>
      new HttpError(413, RpcCode.INVALID_ARGUMENT, `request body exceeds the ${limit}-byte limit (maxRequestBytes)`);
    const chunks: Buffer[] = [];
    let size = 0; // bytes seen
    let held = 0; // bytes buffered and counted in inFlight
    let over = Number.isFinite(declared) && declared > limit;
    let busy = false;
    const releaseHeld = () => {
      inFlight.inFlightBytes -= held;
      held = 0;
      chunks.length = 0;
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over && !busy && inFlight.inFlightBytes + chunk.length > inFlightLimit) busy = true;
      if (over || busy) {
        releaseHeld();
        if (size > limit + DISCARD_ALLOWANCE) {
          reject(tooLarge());
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
      held += chunk.length;
      inFlight.inFlightBytes += chunk.length;
    });
    req.on('end', () => {
      const body = over || busy ? null : Buffer.concat(chunks, size);
      releaseHeld();
      if (over) reject(tooLarge());
      else if (busy) {
        reject(
          new HttpError(
            429,
            RpcCode.RESOURCE_EXHAUSTED,
            `collector is reading too many request bodies at once (maxInFlightBytes ${inFlightLimit}); retry after ${retryAfterSeconds}s`,
          ),
        );
      } else resolve(body as Buffer);
    });
    req.on('error', (err) => {
      releaseHeld();
      reject(err);
    });
    req.on('close', releaseHeld);
  });
}

async function decompress(body: Buffer, contentEncoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip' && enc !== 'deflate') {
    throw new HttpError(
      415,
      RpcCode.INVALID_ARGUMENT,
      `unsupported Content-Encoding '${enc}' (supported: gzip, deflate, identity)`,
    );
  }
  try {
    return await (enc === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: limit });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new HttpError(
        413,
        RpcCode.INVALID_ARGUMENT,
        `decompressed body exceeds the ${limit}-byte limit (maxRequestBytes)`,
      );
    }
    throw new HttpError(400, RpcCode.INVALID_ARGUMENT, `invalid ${enc} body: ${e.message}`);
  }
}

export function createHttpReceiver(
  opts: NormalizedOptions,
  queue: SpanQueue,
  counters: IngestCounters,
  http: HttpReceiverCounters,
): Server {
  const send = (
    res: ServerResponse,
    status: number,
    enc: Encoding,
    body: Uint8Array,
    headers: Record<string, string> = {},
  ) => {
    http.responses[status] = (http.responses[status] ?? 0) + 1;
    res.writeHead(status, {
      'Content-Type': enc === 'json' ? 'application/json' : 'application/x-protobuf',
      'Content-Length': String(body.byteLength),
      ...headers,
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    http.requests++;
    const enc = encodingOf(req.headers['content-type']);
    const path = (req.url ?? '').split('?')[0];
    try {
      if (path !== TRACES_PATH)
        throw new HttpError(
          404,
          RpcCode.UNIMPLEMENTED,
          `no such endpoint ${path}; OTLP traces go to POST ${TRACES_PATH}`,
        );
      if (req.method !== 'POST')
        throw new HttpError(405, RpcCode.UNIMPLEMENTED, `method ${req.method} not allowed on ${TRACES_PATH}; use POST`);
      if (enc === null) {
        throw new HttpError(
          415,
          RpcCode.INVALID_ARGUMENT,
          `unsupported Content-Type '${req.headers['content-type'] ?? ''}' (supported: application/x-protobuf, application/json)`,
        );
      }
      if (busy(queue, counters)) {
        req.resume();
        const msg = `collector queue is full (${queue.depth}/${queue.capacitySpans} spans); retry after ${opts.retryAfterSeconds}s`;
        send(res, 429, enc, encodeRpcStatus(RpcCode.RESOURCE_EXHAUSTED, msg, enc, opts.retryAfterSeconds * 1000), {
          'Retry-After': String(opts.retryAfterSeconds),
        });
        return;
      }
      const raw = await readBody(req, opts.maxRequestBytes, http, opts.maxInFlightBytes, opts.retryAfterSeconds);
      const body = await decompress(raw, req.headers['content-encoding'], opts.maxRequestBytes);
      const decoded = decodeSpans(body, enc, opts.spanLimits);
      if (!decoded.ok) throw new HttpError(400, RpcCode.INVALID_ARGUMENT, decoded.error);
      const result = ingest(decoded.conversion, queue, counters);
      if (result.kind === 'busy') {
        const msg = `collector queue cannot take this request now (${queue.depth}/${queue.capacitySpans} spans queued); retry after ${opts.retryAfterSeconds}s`;
        send(res, 429, enc, encodeRpcStatus(RpcCode.RESOURCE_EXHAUSTED, msg, enc, opts.retryAfterSeconds * 1000), {
          'Retry-After': String(opts.retryAfterSeconds),
        });
        return;
      }
      send(res, 200, enc, encodeExportResponse(result.rejected, result.errorMessage, enc));
    } catch (err) {
      const e =
        err instanceof HttpError
          ? err
          : new HttpError(500, RpcCode.INTERNAL, `internal error: ${(err as Error).message}`);
      if (!(err instanceof HttpError)) opts.onError(`OTLP/HTTP request failed: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) return;
      if (e.status !== 413 && e.status !== 400 && req.readable) req.resume();
      const retryMs = e.status === 429 ? opts.retryAfterSeconds * 1000 : undefined;
      const headers: Record<string, string> =
        e.status === 405
          ? { Allow: 'POST' }
          : e.status === 429
            ? { 'Retry-After': String(opts.retryAfterSeconds) }
            : {};
      send(res, e.status, enc ?? 'json', encodeRpcStatus(e.code, e.message, enc ?? 'json', retryMs), headers);
    }
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err) => opts.onError(`OTLP/HTTP handler crashed: ${String(err)}`));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
