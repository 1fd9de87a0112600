// A generated workload (analysis/generate, with ground truth) in an in-memory DuckDB store,
// served by the real visualization server on a free 127.0.0.1 port. The server's clock is
// pinned just after the workload so default time ranges behave as they would live.
import {
  defaultWorkloadOptions,
  generateWorkload,
  type Workload,
  type WorkloadOptions,
} from '../../analysis/generate/workload.ts';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import type { DuckDBTraceStore } from '../../analysis/store/duckdb-store.ts';
import { startVisualizationServer, type VisualizationServer } from '../../visualization/index.ts';

export interface Served {
  workload: Workload;
  store: DuckDBTraceStore;
  server: VisualizationServer;
  nowUs: number;
  get<T = unknown>(path: string): Promise<{ status: number; body: Envelope<T> }>;
  close(): Promise<void>;
}

export interface Envelope<T> {
  data: T;
  total: number;
  limit: number;
  offset: number;
  errors: Array<{ code: number; msg: string; parameter?: string; traceID?: string }> | null;
}

export async function serveWorkload(
  traces: number,
  seed: number,
  extra: Partial<WorkloadOptions> = {},
): Promise<Served> {
  const workload = generateWorkload({ ...defaultWorkloadOptions(traces, seed), ...extra });
  const store = await openDuckDBStore();
  await store.append(workload.spans);
  const nowUs = Math.ceil(workload.truth.endUs) + 60_000_000;
  const server = await startVisualizationServer({ reader: store, port: 0, nowUs: () => nowUs });
  return {
    workload,
    store,
    server,
    nowUs,
    async get<T>(path: string) {
      const res = await fetch(server.url + path);
      const text = await res.text();
      let body: Envelope<T>;
      try {
        body = JSON.parse(text) as Envelope<T>;
      } catch {
        throw new Error(`${path}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      return { status: res.status, body };
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}
