// The SDK's OTLP/HTTP protobuf trace exporter — its transport, retries, timeouts, concurrency
// bound and response handling — with one change: a batch of DeferredSpans is serialized by
// DeferredSpanEncoder straight from the recorded facts; any other batch (SDK spans, or one the
// encoder declines) by the SDK's own ProtobufTraceSerializer. Both write the same bytes for
// the same spans (test/unit/otlp-span-encoder.test.ts).
//
// Why: in express-gateway at 100 % kept, serializing through FinishedSpan objects cost 5–7 µs
// of gateway CPU per request and building them 4–6 (in-process A/B, gateway-plugins/README.md,
// "Cost per request").
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type IExportTraceServiceResponse,
  type ISerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { DeferredSpanEncoder } from './otlp-span-encoder.ts';

/** The SDK's component type for this exporter in its self-observability metrics. */
const COMPONENT_TYPE = 'otlp_http_span_exporter';

export class DeferredSpanSerializer implements ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  private readonly encoder = new DeferredSpanEncoder();
  /** Batches the encoder declined (written by the SDK's serializer instead). */
  declined = 0;

  serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined {
    const bytes = this.encoder.encode(spans);
    if (bytes !== null) return bytes;
    this.declined++;
    return ProtobufTraceSerializer.serializeRequest(spans);
  }

  deserializeResponse(data: Uint8Array): IExportTraceServiceResponse {
    return ProtobufTraceSerializer.deserializeResponse(data);
  }
}

export function otlpHttpSpanExporter(url: string, timeoutMillis: number): SpanExporter {
  const options = convertLegacyHttpOptions({ url, timeoutMillis }, 'TRACES', 'v1/traces', {
    'Content-Type': 'application/x-protobuf',
  });
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegate(
      options,
      new DeferredSpanSerializer(),
      COMPONENT_TYPE,
      TraceExporterMetricsHelper,
      undefined,
    ),
  );
}
