// Helpers for collector tests: a collector in a temp dir torn down with the test, OTLP requests
// built with the published schema (so tests can also send what the SDKs never would), and a raw
// gRPC client that exposes status codes and trailers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, type Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import { type Collector, startCollector } from '../../analysis/collector/collector.ts';
import { traceServiceDefinition } from '../../analysis/collector/grpc-receiver.ts';
import type { CollectorOptions } from '../../analysis/collector/options.ts';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus } from '../../analysis/otlp/schema.ts';

export async function startTestCollector(
  t: ExecutionContext,
  options: Partial<CollectorOptions> = {},
): Promise<Collector> {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshtrace-collector-'));
  const c = await startCollector({ dataDir, httpPort: 0, grpcPort: 0, onError: () => {}, ...options });
  t.teardown(async () => {
    await c.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return c;
}

export const T0_NS = 1_700_000_000_000_000_000n;

export interface SpanSpec {
  traceId?: string | Buffer;
  spanId?: string | Buffer;
  parentSpanId?: string;
  name?: string;
  startNs?: bigint;
  endNs?: bigint;
}

export const hexTrace = (n: number) => n.toString(16).padStart(32, '0');
export const hexSpan = (n: number) => n.toString(16).padStart(16, '0');

/** An OTLP/JSON request body (ids as hex, times as decimal strings — spec "JSON Protobuf Encoding"). */
export function jsonRequest(spans: SpanSpec[], service = 'svc'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s, i) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name ?? `op-${i}`,
              kind: 2,
              startTimeUnixNano: s.startNs?.toString(),
              endTimeUnixNano: s.endNs?.toString(),
              attributes: [{ key: 'i', value: { intValue: String(i) } }],
            })),
          },
        ],
      },
    ],
  };
}

/** The same request as binary protobuf. Ids given as hex become bytes; Buffers pass as they are. */
export function protoRequest(spans: SpanSpec[], service = 'svc'): Uint8Array {
  const bytes = (v: string | Buffer | undefined) =>
    v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v, 'hex') : v;
  const obj = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: spans.map((s, i) => ({
              traceId: bytes(s.traceId),
              spanId: bytes(s.spanId),
              parentSpanId: bytes(s.parentSpanId),
              name: s.name ?? `op-${i}`,
              kind: 2,
              startTimeUnixNano: s.startNs?.toString(),
              endTimeUnixNano: s.endNs?.toString(),
              attributes: [{ key: 'i', value: { intValue: i } }],
            })),
          },
        ],
      },
    ],
  };
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(obj)).finish();
}

export function validSpans(n: number, traceNo = 1): SpanSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    traceId: hexTrace(traceNo),
    spanId: hexSpan(traceNo * 1000 + i + 1),
    startNs: T0_NS + BigInt(i) * 1000n,
    endNs: T0_NS + BigInt(i) * 1000n + 500n,
  }));
}

export async function post(
  port: number,
  body: Uint8Array | string,
  headers: Record<string, string>,
  path = '/v1/traces',
  method = 'POST',
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

export const decodeResponse = (b: Uint8Array) =>
  ExportTraceServiceResponse.decode(b) as unknown as {
    partialSuccess?: { rejectedSpans: { toNumber(): number }; errorMessage: string } | null;
  };

export const decodeStatus = (b: Uint8Array) =>
  RpcStatus.toObject(RpcStatus.decode(b), { defaults: true }) as { code: number; message: string };

const Client = makeGenericClientConstructor(traceServiceDefinition, 'TraceService');

export interface RawGrpcResult {
  error: ServiceError | null;
  response: Buffer | null;
}

/** Calls TraceService/Export with raw bytes. */
export function grpcExport(port: number, body: Uint8Array): Promise<RawGrpcResult> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  return new Promise((resolve) => {
    (client as unknown as Record<string, (req: Buffer, cb: (e: ServiceError | null, r: Buffer) => void) => void>)[
      'Export'
    ]?.(Buffer.from(body), (error, response) => {
      client.close();
      resolve({ error, response: error ? null : response });
    });
  });
}

export const trailer = (md: Metadata | undefined, key: string): Buffer | undefined =>
  md?.get(key)[0] as Buffer | undefined;
