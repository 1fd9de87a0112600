// `meshtrace collector --data-dir DIR [--http-port 4318] [--grpc-port 4317] …` — runs the OTLP
// receivers and the embedded DuckDB store until SIGINT/SIGTERM, then drains the queue, closes the
// store and prints the counters. The first stdout line names the bound endpoints, so scripts (and
// the mesh demo) can wait for it.
import { parseArgs } from 'node:util';
import { startCollector } from '../../analysis/collector/collector.ts';
import type { CollectorOptions } from '../../analysis/collector/options.ts';

export const summary = 'run the OTLP/HTTP + OTLP/gRPC trace collector with the embedded DuckDB store';

const USAGE = `usage: meshtrace collector --data-dir DIR [options]
  --data-dir DIR             where the DuckDB trace store lives (required)
  --http-port N              OTLP/HTTP port (default 4318; 0 = any free port; "off" = none)
  --grpc-port N              OTLP/gRPC port (default 4317; 0 = any free port; "off" = none)
  --host ADDR                bind address (default 127.0.0.1)
  --max-request-bytes SIZE   largest request, e.g. 4MiB (default)
  --max-in-flight-bytes SIZE request bodies buffered at once before 429 (default 64MiB)
  --queue-spans N            spans buffered before clients are told to retry (default 100000)
  --retention-max-age DUR    delete traces older than this, e.g. 7d, 12h, 30m
  --retention-max-bytes SIZE keep the stored span data under this, e.g. 10GiB
  --link-threshold P         least confidence of an offline link, 0.5-1 (default 0.8)
  --no-linking               do not link calls the sidecars left provisional`;

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const DURATIONS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSize(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined) throw new Error(`${flag}: '${v}' is not a size (e.g. 4194304, 512KiB, 4MiB, 10GB)`);
  return Math.floor(Number(m[1]) * unit);
}

export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  if (!m) throw new Error(`${flag}: '${v}' is not a duration (e.g. 90s, 30m, 12h, 7d)`);
  return Number(m[1]) * (DURATIONS[m[2] as string] as number);
}

function parsePort(flag: string, v: string | undefined): number | false | undefined {
  if (v === undefined) return undefined;
  if (v === 'off') return false;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`${flag}: '${v}' is not a port (0-65535 or "off")`);
  return Number(v);
}

export function parseCollectorArgs(args: string[]): CollectorOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      'http-port': { type: 'string' },
      'grpc-port': { type: 'string' },
      host: { type: 'string' },
      'max-request-bytes': { type: 'string' },
      'max-in-flight-bytes': { type: 'string' },
      'queue-spans': { type: 'string' },
      'retention-max-age': { type: 'string' },
      'retention-max-bytes': { type: 'string' },
      'link-threshold': { type: 'string' },
      'no-linking': { type: 'boolean' },
    },
  });
  if (values['data-dir'] === undefined) throw new Error('--data-dir is required');
  const options: CollectorOptions = { dataDir: values['data-dir'] };
  const http = parsePort('--http-port', values['http-port']);
  const grpc = parsePort('--grpc-port', values['grpc-port']);
  if (http !== undefined) options.httpPort = http;
  if (grpc !== undefined) options.grpcPort = grpc;
  if (values.host !== undefined) options.host = values.host;
  if (values['max-request-bytes'] !== undefined) {
    options.maxRequestBytes = parseSize('--max-request-bytes', values['max-request-bytes']);
  }
  if (values['max-in-flight-bytes'] !== undefined) {
    options.maxInFlightBytes = parseSize('--max-in-flight-bytes', values['max-in-flight-bytes']);
  }
  if (values['queue-spans'] !== undefined) {
    const n = Number(values['queue-spans']);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--queue-spans: '${values['queue-spans']}' is not a positive integer`);
    options.queueCapacitySpans = n;
  }
  const retention: NonNullable<CollectorOptions['retention']> = {};
  if (values['retention-max-age'] !== undefined) {
    retention.maxAgeMs = parseDuration('--retention-max-age', values['retention-max-age']);
  }
  if (values['retention-max-bytes'] !== undefined) {
    retention.maxBytes = parseSize('--retention-max-bytes', values['retention-max-bytes']);
  }
  if (Object.keys(retention).length > 0) options.retention = retention;
  if (values['no-linking'] && values['link-threshold'] !== undefined)
    throw new Error('--link-threshold and --no-linking contradict each other');
  if (values['no-linking']) options.linking = false;
  else if (values['link-threshold'] !== undefined) {
    const p = Number(values['link-threshold']);
    if (!(p >= 0.5 && p <= 1))
      throw new Error(`--link-threshold: '${values['link-threshold']}' is not within [0.5, 1]`);
    options.linking = { threshold: p };
  }
  return options;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  let options: CollectorOptions;
  try {
    options = parseCollectorArgs(args);
  } catch (err) {
    console.error(`meshtrace collector: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const c = await startCollector(options);
  const host = options.host ?? '127.0.0.1';
  const endpoints = [
    c.httpPort !== null ? `OTLP/HTTP http://${host}:${c.httpPort}/v1/traces` : null,
    c.grpcPort !== null ? `OTLP/gRPC ${host}:${c.grpcPort}` : null,
  ].filter((x) => x !== null);
  console.log(`meshtrace collector listening: ${endpoints.join(', ')}; store in ${options.dataDir}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  console.log(`meshtrace collector: ${signal}, draining and closing`);
  await c.close();
  const s = c.stats();
  console.log(
    `meshtrace collector stopped: accepted ${s.spansAccepted}, rejected ${s.spansRejected}, refused ${s.spansRefused}, stored ${s.spansStored}, lost ${s.spansLost} span(s)`,
  );
  return 0;
}
