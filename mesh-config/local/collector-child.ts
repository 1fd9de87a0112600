// The collector of the local mesh, run as its own process by `meshtrace up`: the analysis
// collector (OTLP/HTTP + OTLP/gRPC into the embedded DuckDB store) and, in the same process
// (DuckDB allows one writer process per file), the visualization server over that store:
//   /                      the web UI
//   /api/...               the Jaeger-compatible query API (services, traces, dependencies)
//   /api/meshtrace/...     analyses; /api/meshtrace/status gives the store's span/trace counts
// Usage: node --import=tsx collector-child.ts <dataDir> <httpPort> <grpcPort> <uiPort>
import { startCollector } from '../../analysis/collector/collector.ts';
import type { TraceReader } from '../../analysis/store/trace-store.ts';
import { startVisualizationServer } from '../../visualization/index.ts';

const [dataDir, httpPort, grpcPort, uiPort] = process.argv.slice(2);
if (!dataDir || !httpPort || !grpcPort || !uiPort) {
  console.error('usage: collector-child.ts <dataDir> <httpPort> <grpcPort> <uiPort>');
  process.exit(2);
}

const collector = await startCollector({
  dataDir,
  httpPort: Number(httpPort),
  grpcPort: Number(grpcPort),
  host: '127.0.0.1',
});
const store = collector.store;

// Read-your-writes: a span the receivers accepted (OTLP answered 200) may still sit in the
// collector's queue; every read waits for the queue to drain so the UI and API show it.
const fresh =
  <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    await collector.flush();
    return read(...args);
  };
const reader: TraceReader & { stats: typeof store.stats } = {
  getTrace: fresh((id: string) => store.getTrace(id)),
  findTraces: fresh((q: Parameters<typeof store.findTraces>[0]) => store.findTraces(q)),
  services: fresh(() => store.services()),
  operations: fresh((service: string) => store.operations(service)),
  spansInWindow: fresh((w: Parameters<typeof store.spansInWindow>[0]) => store.spansInWindow(w)),
  stats: fresh(() => store.stats()),
};

const server = await startVisualizationServer({
  reader,
  port: Number(uiPort),
  host: '127.0.0.1',
  collectorStats: () => collector.stats(),
});
console.log(`collector ready: otlp http ${httpPort}, grpc ${grpcPort}, UI + Jaeger API ${server.url}`);

const stop = async () => {
  await server.close();
  await collector.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
