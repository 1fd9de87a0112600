// The collector of the local mesh, run as its own process by `meshtrace up`: the analysis
// collector (OTLP/HTTP + OTLP/gRPC into the embedded DuckDB store) plus a small read-only JSON
// API for the demo's summary and for users, until the analysis query API lands:
//   GET /api/stats                  {spans, traces, services}
//   GET /api/traces?service=&limit= newest traces (≤ 100), each {traceId, spans, services, root}
//   GET /api/traces/<traceId>       all spans of one trace
// Usage: node --import=tsx collector-child.ts <dataDir> <httpPort> <grpcPort> <apiPort>
import { createServer } from 'node:http';
import { startCollector } from '../../analysis/collector/collector.ts';

const [dataDir, httpPort, grpcPort, apiPort] = process.argv.slice(2);
if (!dataDir || !httpPort || !grpcPort || !apiPort) {
  console.error('usage: collector-child.ts <dataDir> <httpPort> <grpcPort> <apiPort>');
  process.exit(2);
}

const collector = await startCollector({
  dataDir,
  httpPort: Number(httpPort),
  grpcPort: Number(grpcPort),
  host: '127.0.0.1',
});

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
}

const api = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    await collector.flush();
    if (url.pathname === '/api/stats') {
      const s = await collector.store.stats();
      send(res, 200, { spans: s.spans, traces: s.traces, services: await collector.store.services() });
    } else if (url.pathname === '/api/traces') {
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
      const service = url.searchParams.get('service') ?? undefined;
      const traces = await collector.store.findTraces({ service, limit });
      send(
        res,
        200,
        traces.map((t) => ({
          traceId: t.traceId,
          spans: t.spans.length,
          services: [...new Set(t.spans.map((s) => s.service))],
          root: t.spans.find((s) => !s.parentSpanId)?.name ?? t.spans[0]?.name,
        })),
      );
    } else if (url.pathname.startsWith('/api/traces/')) {
      send(res, 200, await collector.store.getTrace(url.pathname.slice('/api/traces/'.length)));
    } else {
      send(res, 404, { error: 'unknown path', paths: ['/api/stats', '/api/traces', '/api/traces/<id>'] });
    }
  } catch (err) {
    send(res, 500, { error: (err as Error).message });
  }
});
api.listen(Number(apiPort), '127.0.0.1', () =>
  console.log(`collector ready: otlp http ${httpPort}, grpc ${grpcPort}, api ${apiPort}`),
);

const stop = async () => {
  api.close();
  await collector.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
