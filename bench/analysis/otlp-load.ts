// Deterministic OTLP load for the ingest bench: requests of realistic shape (50 traces × 10 spans,
// ~10 attributes a span, an event on every fifth), the same bytes in every process that builds them.
import { ExportTraceServiceRequest } from '../../analysis/otlp/schema.ts';

export const SPANS_PER_REQUEST = 500;

let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const hex = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => Math.floor(rand() * 256)));
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

/** Request number n (deterministic for a fresh process: requests must be built in order 0, 1, 2 …). */
export function makeRequest(n: number): Uint8Array {
  const t0 = 1_732_500_000_000_000_000n + BigInt(n) * 1_000_000_000n;
  const spans = [];
  for (let tr = 0; tr < SPANS_PER_REQUEST / 10; tr++) {
    const traceId = hex(16);
    let parent: Buffer | undefined;
    for (let i = 0; i < 10; i++) {
      const spanId = hex(8);
      const start = t0 + BigInt(tr * 1000 + i * 50) * 1000n;
      spans.push({
        traceId,
        spanId,
        parentSpanId: parent,
        name: i === 0 ? 'GET /api/cart/{id}' : `SELECT cart_items ${i}`,
        kind: i === 0 ? 2 : 3,
        startTimeUnixNano: start.toString(),
        endTimeUnixNano: (start + BigInt(Math.floor(rand() * 5_000_000))).toString(),
        attributes: [
          str('http.request.method', 'GET'),
          str('http.route', '/api/cart/{id}'),
          int('http.response.status_code', 200),
          str('server.address', 'cart.default.svc.cluster.local'),
          int('server.port', 8080),
          str('url.path', `/api/cart/${Math.floor(rand() * 1e6)}`),
          str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64) meshtrace-bench'),
          str('db.system', 'postgresql'),
          str('db.statement', 'SELECT * FROM cart_items WHERE cart_id = $1'),
          int('db.rows', Math.floor(rand() * 100)),
        ],
        events:
          i % 5 === 0
            ? [{ timeUnixNano: start.toString(), name: 'cache.miss', attributes: [str('cache', 'redis')] }]
            : [],
        status: { code: i === 9 && rand() < 0.05 ? 2 : 0 },
      });
      parent = spanId;
    }
  }
  return ExportTraceServiceRequest.encode(
    ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          resource: {
            attributes: [
              str('service.name', 'cart'),
              str('service.version', '1.4.2'),
              str('host.name', 'node-3'),
              str('k8s.pod.name', 'cart-7d9f8b6c5-x2x9z'),
            ],
          },
          scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' }, spans }],
        },
      ],
    }),
  ).finish();
}

export function makeRequests(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => makeRequest(i));
}
