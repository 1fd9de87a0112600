// envoy.service.ext_proc.v3.ExternalProcessor/Process — one bidirectional stream per HTTP request.
//
// Protocol (Envoy's external_processor.proto, with the processing mode our Envoy config sets:
// request and response headers SENT, bodies NONE unless we override, trailers SKIPPED):
//
//   1. Envoy opens the stream when the request's headers arrive and sends ProcessingRequest
//      {request_headers, attributes}. We run the enrichers, extract the inbound trace context,
//      start the server span (mode "span", hop-trace.ts), and MUST answer with exactly one
//      ProcessingResponse{request_headers}: a HeaderMutation setting the outbound trace headers
//      (mode "span"), dynamic_metadata under our namespace (both modes), and — for a GraphQL
//      POST small enough to buffer — a mode_override asking for the BUFFERED request body.
//   2. Only if we asked: ProcessingRequest{request_body} (whole body, end_of_stream). We name
//      the GraphQL operation and MUST answer ProcessingResponse{request_body} (no mutation).
//   3. ProcessingRequest{response_headers}: we record status and sizes, take the final sampling
//      decision (error/latency bias, hop-trace.ts), end the span, and MUST
//      answer ProcessingResponse{response_headers} (no mutation).
//   4. Envoy half-closes; we end our side. Any other message (trailers, response body if some
//      config sends it) gets its empty answer so Envoy never waits on us.
//   5. Envoy may instead cancel (client reset, its message_timeout, filter destroyed): the span
//      ends there, marked with why. Every stream's span ends exactly once (HopTrace.finish).
//
// A message with no arm set, or one out of order (request_body before request_headers,
// request_headers twice), is a protocol error: the stream fails with INVALID_ARGUMENT; other streams are untouched.
// Messages of one stream are handled strictly in order. A message is answered synchronously, in
// the same turn it arrived, unless a JWT has to be verified asynchronously; only then do later
// messages of that stream wait in a queue (a promise chain per message was measurable per stream).
// Messages arrive decoded and answers leave encoded by processing-codec.ts.
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServiceConfig } from './config.ts';
import { envoyAttributes } from './enrich/envoy-attributes.ts';
import { graphqlAttributes } from './enrich/graphql.ts';
import type { Enricher, Enrichment } from './enrich/index.ts';
import type { Attrs } from './enrich/types.ts';
import type { ProcessingMode, ProcessingRequest } from './envoy-types.ts';
import { first, fromHeaderMap, type Headers } from './headers.ts';
import type { HopTrace, HopTracer } from './hop-trace.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { encodeProcessingResponse, RESPONSE_ARMS, type Reply, type ResponseArm } from './processing-codec.ts';
import type { Propagation } from './propagation.ts';

export interface ProcessorDeps {
  cfg: ServiceConfig;
  hop: HopTracer;
  enricher: Enricher;
  propagation: Propagation;
  metrics: Metrics;
  logger: Logger;
}

export class ProtocolError extends Error {}

/** Requests arrive decoded (processing-codec.ts); answers are written as encoded bytes. */
type Stream = grpc.ServerDuplexStream<ProcessingRequest, Buffer>;

/** Answers that never vary, encoded once: an empty answer of each arm. */
const EMPTY_ANSWER = Object.fromEntries(RESPONSE_ARMS.map((arm) => [arm, encodeProcessingResponse({ arm })])) as Record<
  ResponseArm,
  Buffer
>;

const BUFFER_REQUEST_BODY: ProcessingMode = {
  request_header_mode: 'SEND',
  response_header_mode: 'SEND',
  request_body_mode: 'BUFFERED',
  response_body_mode: 'NONE',
  request_trailer_mode: 'SKIP',
  response_trailer_mode: 'SKIP',
};

/** Per-stream state. */
class Exchange {
  hop?: HopTrace;
  enrichment?: Enrichment;
  sawRequestHeaders = false;
  traceId?: string;
  status?: number;
  /** Set once the stream is gone; a span begun after that (async enrichment) ends at once. */
  closedReason?: string;

  constructor(private readonly d: ProcessorDeps) {}

  /** The encoded answer; a promise only while a JWT is being verified asynchronously. */
  onMessage(msg: ProcessingRequest): Buffer | Promise<Buffer> {
    switch (msg.request) {
      case 'request_headers':
        return this.requestHeaders(msg);
      case 'request_body':
        if (!this.sawRequestHeaders) throw new ProtocolError('request_body arrived before request_headers');
        return this.requestBody(msg);
      case 'response_headers':
        return this.responseHeaders(msg);
      case 'request_trailers':
      case 'response_trailers':
      case 'response_body':
        return EMPTY_ANSWER[msg.request];
      default:
        throw new ProtocolError('ProcessingRequest has no request arm set (expected request_headers, …)');
    }
  }

  private requestHeaders(msg: ProcessingRequest): Buffer | Promise<Buffer> {
    if (this.sawRequestHeaders) throw new ProtocolError('request_headers arrived twice on one stream');
    this.sawRequestHeaders = true;
    const headers = fromHeaderMap(msg.request_headers?.headers);
    const method = first(headers, ':method') ?? 'GET';
    const authority = first(headers, ':authority');
    const enrichment = this.d.enricher.request({
      method,
      target: first(headers, ':path') ?? '/',
      authority,
      scheme: first(headers, ':scheme'),
      headers,
      envoy: envoyAttributes(msg.attributes),
    });
    return enrichment instanceof Promise
      ? enrichment.then((e) => this.answerRequestHeaders(msg, headers, method, authority, e))
      : this.answerRequestHeaders(msg, headers, method, authority, enrichment);
  }

  private answerRequestHeaders(
    msg: ProcessingRequest,
    headers: Headers,
    method: string,
    authority: string | undefined,
    enrichment: Enrichment,
  ): Buffer {
    const { cfg } = this.d;
    this.enrichment = enrichment;
    const reply: Reply = { arm: 'request_headers', metadata: this.metadata(enrichment.attrs) };
    if (cfg.mode === 'span') {
      const route = enrichment.attrs['meshtrace.envoy.route'];
      this.hop = this.d.hop.begin({
        method,
        path: enrichment.path,
        authority: authority ?? '',
        headers,
        route: typeof route === 'string' ? route : undefined,
        attrs: enrichment.attrs,
      });
      this.traceId = this.hop.traceId;
      // Envoy may have given up (message_timeout) while the enrichers awaited a JWKS fetch.
      if (this.closedReason) this.hop.finish({ status: 0, reset: true, reason: this.closedReason });
      reply.setHeaders = this.hop.set;
      reply.removeHeaders = this.hop.remove;
    } else {
      this.traceId = this.d.propagation.extract(headers)?.parent.traceId;
    }
    const gql = cfg.enrich.graphql;
    if (
      gql &&
      method === 'POST' &&
      msg.request_headers?.end_of_stream !== true &&
      gql.paths.includes(enrichment.path)
    ) {
      const len = Number(first(headers, 'content-length'));
      if (Number.isFinite(len) && len > 0 && len <= gql.maxBodyBytes) reply.modeOverride = BUFFER_REQUEST_BODY;
    }
    return encodeProcessingResponse(reply);
  }

  private requestBody(msg: ProcessingRequest): Buffer {
    const gql = this.d.cfg.enrich.graphql;
    if (!gql || !msg.request_body?.body) return EMPTY_ANSWER.request_body;
    const attrs = graphqlAttributes(msg.request_body.body, gql.maxBodyBytes);
    this.d.enricher.scrub(attrs, this.enrichment?.secrets ?? []);
    if (Object.keys(attrs).length === 0) return EMPTY_ANSWER.request_body;
    if (this.hop && !this.hop.ended) this.hop.span.setAttributes(attrs);
    if (this.enrichment) Object.assign(this.enrichment.attrs, attrs);
    return encodeProcessingResponse({ arm: 'request_body', metadata: this.metadata(attrs) });
  }

  private responseHeaders(msg: ProcessingRequest): Buffer {
    const headers = fromHeaderMap(msg.response_headers?.headers);
    const parsed = Number(first(headers, ':status'));
    const status = Number.isInteger(parsed) && parsed > 0 ? parsed : 0;
    this.status = status;
    const attrs: Attrs = {};
    if (status > 0) attrs['http.response.status_code'] = status;
    const contentLength = first(headers, 'content-length');
    const len = Number(contentLength);
    if (contentLength !== undefined && Number.isFinite(len) && len >= 0) attrs['http.response.body.size'] = len;
    if (this.hop && !this.hop.ended) {
      // finish() records the status code itself.
      const size = attrs['http.response.body.size'];
      if (size !== undefined) this.hop.span.setAttribute('http.response.body.size', size);
      this.hop.finish({ status });
    }
    if (this.d.cfg.mode === 'metadata' && Object.keys(attrs).length > 0)
      return encodeProcessingResponse({ arm: 'response_headers', metadata: this.metadata(attrs) });
    return EMPTY_ANSWER.response_headers;
  }

  private metadata(attrs: Attrs) {
    return { namespace: this.d.cfg.metadataNamespace, attrs };
  }

  /** The stream closed without response headers (cancel, error, half-close early). */
  finish(reason: string) {
    this.closedReason = reason;
    // No response headers seen: the request was reset, timed out or Envoy stopped asking.
    this.hop?.finish({ status: 0, reset: true, reason });
  }
}

/**
 * One Process stream's plumbing: ordering, errors, close. A class rather than closures made per
 * stream: under tsx (esbuild keepNames) each named closure costs an Object.defineProperty too.
 */
class StreamHandler {
  private readonly ex: Exchange;
  private closed = false;
  /** An answer is being worked out asynchronously; later messages wait in `queued`. */
  private busy = false;
  private readonly queued: ProcessingRequest[] = [];
  private halfClosed = false;
  private readonly opened = performance.now();

  constructor(
    private readonly d: ProcessorDeps,
    private readonly call: Stream,
  ) {
    this.ex = new Exchange(d);
    d.metrics.inc('streams_total');
    d.metrics.activeStreams++;
    call.on('data', (msg: ProcessingRequest) => this.onData(msg));
    call.on('end', () => this.onEnd());
    call.on('cancelled', () => {
      d.metrics.inc('stream_cancelled_total');
      this.close('cancelled');
    });
    call.on('error', (err: Error) => this.onError(err));
  }

  private onData(msg: ProcessingRequest): void {
    if (this.busy) this.queued.push(msg);
    else this.handle(msg);
  }

  private onEnd(): void {
    this.halfClosed = true;
    if (!this.busy) this.onHalfClose();
  }

  private onError(err: Error): void {
    if (this.closed) return;
    this.d.metrics.inc('stream_errors_total');
    this.d.logger.log('debug', 'ext_proc stream error', { error: err.message, trace_id: this.ex.traceId });
    this.close('error');
  }

  private handle(msg: ProcessingRequest): void {
    if (this.closed) return;
    const { metrics } = this.d;
    const t0 = performance.now();
    metrics.inc('messages_total');
    let answer: Buffer | Promise<Buffer> | undefined;
    try {
      answer = this.ex.onMessage(msg);
      if (!(answer instanceof Promise)) this.send(answer);
    } catch (err) {
      this.fail(err);
    }
    if (!(answer instanceof Promise)) {
      metrics.latency.process.observe(performance.now() - t0);
      return;
    }
    this.busy = true;
    answer
      .then((a) => this.send(a))
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        metrics.latency.process.observe(performance.now() - t0);
        this.busy = false;
        while (!this.busy && !this.closed && this.queued.length > 0)
          this.handle(this.queued.shift() as ProcessingRequest);
        if (!this.busy && this.halfClosed) this.onHalfClose();
      });
  }

  private send(answer: Buffer): void {
    const { call } = this;
    if (!this.closed && !call.cancelled && call.writable) call.write(answer);
  }

  private fail(err: unknown): void {
    const { metrics, logger } = this.d;
    const protocol = err instanceof ProtocolError;
    metrics.inc(protocol ? 'malformed_requests_total' : 'stream_errors_total');
    logger.log('warn', protocol ? 'malformed ProcessingRequest' : 'ext_proc message failed', {
      error: (err as Error).message,
      trace_id: this.ex.traceId,
    });
    this.close(protocol ? 'protocol_error' : 'error');
    this.call.emit('error', {
      code: protocol ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.INTERNAL,
      details: (err as Error).message,
    });
  }

  private onHalfClose(): void {
    // grpc-js ends the readable side before it reports a cancel (RST_STREAM): give the
    // 'cancelled' event one turn so a reset is recorded as such, not as a clean end.
    setImmediate(() => {
      this.close('stream_end');
      if (!this.call.cancelled && !this.call.writableEnded) this.call.end();
    });
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queued.length = 0;
    const { metrics, logger } = this.d;
    metrics.activeStreams--;
    const { ex } = this;
    ex.finish(reason);
    if (logger.enabled('debug'))
      logger.log('debug', 'ext_proc stream closed', {
        trace_id: ex.traceId,
        span_id: ex.hop?.span.spanContext().spanId,
        reason,
        status: ex.status,
        path: ex.enrichment?.path,
        duration_ms: Math.round((performance.now() - this.opened) * 1000) / 1000,
      });
  }
}

/** The grpc-js handler for Process. */
export function processHandler(d: ProcessorDeps): grpc.handleBidiStreamingCall<ProcessingRequest, Buffer> {
  return (call: Stream) => {
    new StreamHandler(d, call);
  };
}
