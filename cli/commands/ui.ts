// `meshtrace ui --data-dir DIR [--port 16686]` — the web UI and the Jaeger-compatible query API
// over the embedded store, with the OTLP receivers in the same process (DuckDB allows one
// writer process per file, so the collector and the UI share one store). Point Jaeger UI or
// Grafana's Jaeger data source at http://HOST:PORT; with --export-otlp every received span is
// also forwarded to that OTLP/HTTP endpoint (e.g. a Jaeger's http://127.0.0.1:4318/v1/traces).
import { parseArgs } from 'node:util';
import { startCollector } from '../../analysis/collector/collector.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import { OtlpForwarder } from '../../visualization/export/otlp-forwarder.ts';
import { teeStore } from '../../visualization/export/tee-store.ts';
import { startVisualizationServer } from '../../visualization/index.ts';

export const summary = 'serve the web UI and the Jaeger-compatible query API (plus OTLP receivers) over a data dir';

const USAGE = `usage: meshtrace ui --data-dir DIR [options]

  --data-dir DIR          where the DuckDB span store lives (created if missing)
  --port N                UI + query API port (default 16686, Jaeger's; 0 = any free port)
  --host ADDR             bind address (default 127.0.0.1)
  --otlp-http-port N|off  OTLP/HTTP receiver (default 4318)
  --otlp-grpc-port N|off  OTLP/gRPC receiver (default 4317)
  --export-otlp URL       also forward received spans to this OTLP/HTTP traces endpoint`;

function portOption(name: string, v: string | undefined, dflt: number): number | false {
  if (v === undefined) return dflt;
  if (v === 'off') return false;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new Error(`--${name}: "${v}" is not a port 0-65535 or off`);
  return Number(v);
}

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'otlp-http-port': { type: 'string' },
        'otlp-grpc-port': { type: 'string' },
        'export-otlp': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`meshtrace ui: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dataDir = values['data-dir'] as string | undefined;
  if (!dataDir) {
    console.error(`meshtrace ui: --data-dir is required\n\n${USAGE}`);
    return 2;
  }
  let port: number;
  let httpPort: number | false;
  let grpcPort: number | false;
  let forwarder: OtlpForwarder | null = null;
  try {
    const p = portOption('port', values.port as string | undefined, 16686);
    if (p === false) throw new Error('--port: the UI cannot be off');
    port = p;
    httpPort = portOption('otlp-http-port', values['otlp-http-port'] as string | undefined, 4318);
    grpcPort = portOption('otlp-grpc-port', values['otlp-grpc-port'] as string | undefined, 4317);
    const exportUrl = values['export-otlp'] as string | undefined;
    if (exportUrl) forwarder = new OtlpForwarder({ endpoint: exportUrl });
  } catch (err) {
    console.error(`meshtrace ui: ${(err as Error).message}`);
    return 2;
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1';

  const base = await openDuckDBStore({ dataDir });
  const fwd = forwarder;
  const store = fwd ? teeStore(base, (spans) => fwd.offer(spans)) : base;
  const collector = await startCollector({ store, httpPort, grpcPort, host });
  const server = await startVisualizationServer({
    reader: store,
    port,
    host,
    collectorStats: () => ({ ...collector.stats(), forwarder: fwd?.stats() ?? null }),
  });
  console.log(`meshtrace ui: ${server.url}/ (Jaeger query API at ${server.url}/api)`);
  if (collector.httpPort !== null)
    console.log(`meshtrace ui: OTLP/HTTP on http://${host}:${collector.httpPort}/v1/traces`);
  if (collector.grpcPort !== null) console.log(`meshtrace ui: OTLP/gRPC on ${host}:${collector.grpcPort}`);
  if (fwd) console.log(`meshtrace ui: forwarding spans to ${values['export-otlp']}`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await collector.close();
  await fwd?.close();
  await base.close();
  return 0;
}
