// Request decoding and response encoding for both OTLP encodings (spec "OTLP/HTTP": binary
// protobuf as application/x-protobuf, JSON Protobuf Encoding as application/json; responses use
// the request's encoding; error bodies are google.rpc.Status). Decoders return a result or a
// reason — never throw — so a receiver can answer 400 with the reason.
import type { PbExportTraceServiceRequest } from './decoded.ts';
import {
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
  RETRY_INFO_TYPE_URL,
  RetryInfo,
  RpcStatus,
} from './schema.ts';

export type Encoding = 'protobuf' | 'json';

export type Decoded = { ok: true; request: PbExportTraceServiceRequest } | { ok: false; error: string };

export function decodeProtobufRequest(body: Uint8Array): Decoded {
  try {
    return { ok: true, request: ExportTraceServiceRequest.decode(body) };
  } catch (err) {
    return { ok: false, error: `malformed protobuf ExportTraceServiceRequest: ${(err as Error).message}` };
  }
}

export function decodeJsonRequest(body: Uint8Array): Decoded {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, error: `malformed JSON ExportTraceServiceRequest: ${(err as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, error: 'JSON ExportTraceServiceRequest must be an object' };
  }
  const rs = (parsed as { resourceSpans?: unknown }).resourceSpans;
  if (rs !== undefined && rs !== null && !Array.isArray(rs)) {
    return { ok: false, error: 'JSON ExportTraceServiceRequest: resourceSpans must be an array' };
  }
  if (rs === undefined && 'resource_spans' in parsed) {
    // spec: JSON keys are lowerCamelCase; the proto field names are not valid keys
    return {
      ok: false,
      error: 'JSON ExportTraceServiceRequest: use lowerCamelCase keys (resourceSpans, not resource_spans)',
    };
  }
  return { ok: true, request: parsed as PbExportTraceServiceRequest };
}

export function encodeExportResponse(rejected: number, errorMessage: string, enc: Encoding): Uint8Array {
  if (enc === 'json') {
    const body = rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage } } : {};
    return Buffer.from(JSON.stringify(body));
  }
  const msg = rejected > 0 ? { partialSuccess: { rejectedSpans: rejected, errorMessage } } : {};
  return ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(msg)).finish();
}

/** google.rpc.Status, with a RetryInfo detail when the client may retry after `retryDelayMs`. */
export function encodeRpcStatus(code: number, message: string, enc: Encoding, retryDelayMs?: number): Uint8Array {
  if (enc === 'json') {
    const details =
      retryDelayMs === undefined
        ? []
        : [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${(retryDelayMs / 1000).toFixed(3)}s` }];
    return Buffer.from(JSON.stringify({ code, message, details }));
  }
  const details =
    retryDelayMs === undefined
      ? []
      : [
          {
            type_url: RETRY_INFO_TYPE_URL,
            value: RetryInfo.encode(
              RetryInfo.fromObject({
                retryDelay: { seconds: Math.floor(retryDelayMs / 1000), nanos: (retryDelayMs % 1000) * 1e6 },
              }),
            ).finish(),
          },
        ];
  return RpcStatus.encode(RpcStatus.fromObject({ code, message, details })).finish();
}

/** Reads a google.rpc.Status (e.g. from grpc-status-details-bin) back, with the RetryInfo delay. */
export function decodeRpcStatus(bytes: Uint8Array): { code: number; message: string; retryDelayMs: number | null } {
  const st = RpcStatus.toObject(RpcStatus.decode(bytes), { defaults: true, longs: Number }) as {
    code: number;
    message: string;
    details: { type_url?: string; typeUrl?: string; value: Uint8Array }[];
  };
  let retryDelayMs: number | null = null;
  for (const d of st.details) {
    if ((d.type_url ?? d.typeUrl) !== RETRY_INFO_TYPE_URL) continue;
    const ri = RetryInfo.toObject(RetryInfo.decode(d.value), { defaults: true, longs: Number }) as {
      retryDelay?: { seconds: number; nanos: number };
    };
    if (ri.retryDelay) retryDelayMs = ri.retryDelay.seconds * 1000 + Math.round(ri.retryDelay.nanos / 1e6);
  }
  return { code: st.code, message: st.message, retryDelayMs };
}
