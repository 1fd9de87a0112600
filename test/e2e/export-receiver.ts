// A test OTLP/HTTP trace receiver: a real HTTP server on 127.0.0.1 that decodes each request
// with the published OTLP protos (analysis/otlp/codec.ts → protobufjs over opentelemetry-proto)
// and keeps the spans in a flat, assertable shape. Faults on demand: answer with another status,
// answer late, or stop listening. Also decodes bodies captured by the TS Proxy-Wasm host.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJsonRequest, decodeProtobufRequest } from '../../analysis/otlp/codec.ts';
import type { Int64, PbAnyValue, PbExportTraceServiceRequest, PbKeyValue } from '../../analysis/otlp/decoded.ts';
import { parseId } from '../../analysis/otlp/ids.ts';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  status: number;
  attributes: Record<string, AttributeValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AttributeValue> }[];
}

/** A decoded attribute value; arrays are the string arrays the filter writes (meshtrace.link.candidates). */
export type AttributeValue = string | number | boolean | string[];

function int64(v: Int64 | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'string' || typeof v === 'number') return BigInt(v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

function anyValue(v: PbAnyValue | null | undefined): AttributeValue {
  if (!v) return '';
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => String(anyValue(x)));
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null) return Number(int64(v.intValue));
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.doubleValue !== undefined && v.doubleValue !== null) return Number(v.doubleValue);
  return '';
}

function attrs(list: PbKeyValue[] | null | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) if (kv.key) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Flattens a decoded request; throws on a malformed id (the filter must never send one). */
export function flattenRequest(req: PbExportTraceServiceRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const id = (v: Parameters<typeof parseId>[0], size: 16 | 8, what: string): string => {
    const s = parseId(v, size);
    if (s === null) throw new Error(`malformed ${what} in exported span`);
    return s;
  };
  for (const rs of req.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: id(s.traceId, 16, 'trace id'),
          spanId: id(s.spanId, 8, 'span id'),
          parentSpanId: id(s.parentSpanId, 8, 'parent span id'),
          traceState: s.traceState ?? '',
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startNs: int64(s.startTimeUnixNano),
          endNs: int64(s.endTimeUnixNano),
          status: s.status?.code ?? 0,
          attributes: attrs(s.attributes),
          links: (s.links ?? []).map((l) => ({
            traceId: id(l.traceId, 16, 'link trace id'),
            spanId: id(l.spanId, 8, 'link span id'),
            attributes: attrs(l.attributes),
          })),
        });
      }
    }
  }
  return out;
}

/** Decodes one OTLP/HTTP body by its content type; throws naming the decoding problem. */
export function decodeBody(body: Uint8Array, contentType: string): ReceivedSpan[] {
  const decoded = contentType.startsWith('application/json') ? decodeJsonRequest(body) : decodeProtobufRequest(body);
  if (!decoded.ok) throw new Error(decoded.error);
  return flattenRequest(decoded.request);
}

export interface OtlpReceiver {
  port: number;
  /** Decoded spans (only counted, not kept, when started with `keepSpans: false`). */
  spans: ReceivedSpan[];
  /** Spans received per resource service.name. */
  counts: Map<string, number>;
  requests: { contentType: string; path: string; spans: number }[];
  /** Bodies that failed to decode (each a reason); a test asserts this stays empty. */
  errors: string[];
  /** What to answer: status code and delay (ms) before answering. */
  behaviour: { status: number; delayMs: number };
  close(): Promise<void>;
}

export async function startOtlpReceiver(
  t?: { teardown(fn: () => unknown): void },
  options: { keepSpans?: boolean } = {},
): Promise<OtlpReceiver> {
  const keep = options.keepSpans ?? true;
  const receiver: OtlpReceiver = {
    port: 0,
    spans: [],
    counts: new Map(),
    requests: [],
    errors: [],
    behaviour: { status: 200, delayMs: 0 },
    close: async () => {},
  };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      const body = new Uint8Array(Buffer.concat(chunks));
      const { status, delayMs } = receiver.behaviour;
      if (status >= 200 && status < 300) {
        try {
          const spans = decodeBody(body, contentType);
          for (const s of spans) receiver.counts.set(s.service, (receiver.counts.get(s.service) ?? 0) + 1);
          if (keep) {
            receiver.spans.push(...spans);
            receiver.requests.push({ contentType, path: req.url ?? '', spans: spans.length });
          }
        } catch (err) {
          receiver.errors.push((err as Error).message);
        }
      }
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': contentType || 'application/x-protobuf' });
        res.end();
      };
      if (delayMs <= 0) answer();
      else {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, delayMs);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t?.teardown(() => receiver.close());
  return receiver;
}
