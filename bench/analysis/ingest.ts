// Ingest throughput of the collector: OTLP/HTTP protobuf requests → receiver → decode → convert →
// queue → DuckDB appender (DuckDB limited to one thread). The load generator runs in a child
// process (bench/analysis/ingest-client.ts) so only the collector's work is charged. Figures:
// spans per wall second and per CPU second of the collector process (all its threads — the
// "one core" figure; wall time on this shared 2-core host depends on the neighbours), beside
// baselines measured in the same run on the same requests: protobuf decode only, decode +
// convert, and store append only.
import { mkdtempSync, rmSync } from 'node:fs';
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCollector } from '../../analysis/collector/collector.ts';
import type { Span } from '../../analysis/model.ts';
import { decodeProtobufRequest } from '../../analysis/otlp/codec.ts';
import { toSpans } from '../../analysis/otlp/to-spans.ts';
import { DuckDBTraceStore } from '../../analysis/store/duckdb-store.ts';
import { median, table } from '../lib/stats.ts';
import { makeRequests, SPANS_PER_REQUEST } from './otlp-load.ts';

const REQUESTS = 200; // 100,000 spans per round
const ROUNDS = 3;

interface Figure {
  wallSpansPerS: number;
  cpuSpansPerS: number;
}

function measure(spans: number, fn: () => void | Promise<void>): Promise<Figure> {
  return (async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { wallSpansPerS: spans / wall, cpuSpansPerS: spans / ((cpu.user + cpu.system) / 1e6) };
  })();
}

interface ClientReply {
  ready?: boolean;
  refused?: number;
  error?: string;
}

function startClient(): Promise<{ send(port: number): Promise<number>; stop(): void }> {
  const child = fork(join(import.meta.dirname, 'ingest-client.ts'), [String(REQUESTS)], { execArgv: ['--import=tsx'] });
  let waiting: ((m: ClientReply) => void) | null = null;
  child.on('message', (m: ClientReply) => waiting?.(m));
  const next = () => new Promise<ClientReply>((resolve) => (waiting = resolve));
  return next().then(() => ({
    send: async (port: number) => {
      const reply = next();
      child.send({ port });
      const m = await reply;
      if (m.error !== undefined) throw new Error(`load generator: ${m.error}`);
      return m.refused ?? 0;
    },
    stop: () => child.kill(),
  }));
}

export async function ingestBench(): Promise<void> {
  console.log(`building ${REQUESTS} requests × ${SPANS_PER_REQUEST} spans …`);
  const requests = makeRequests(REQUESTS);
  const total = REQUESTS * SPANS_PER_REQUEST;
  const mb = requests.reduce((a, r) => a + r.byteLength, 0) / 1e6;
  console.log(`${total} spans per round, ${mb.toFixed(1)} MB of protobuf, ${ROUNDS} rounds, medians shown`);
  const client = await startClient();

  const decodeOnly: Figure[] = [];
  const convert: Figure[] = [];
  const append: Figure[] = [];
  const ingest: Figure[] = [];
  let refused = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      decodeOnly.push(
        await measure(total, () => {
          for (const r of requests) decodeProtobufRequest(r);
        }),
      );
      const converted: Span[][] = [];
      convert.push(
        await measure(total, () => {
          for (const r of requests) {
            const d = decodeProtobufRequest(r);
            if (d.ok) converted.push(toSpans(d.request).spans);
          }
        }),
      );
      const dir = mkdtempSync(join(tmpdir(), 'meshtrace-bench-'));
      try {
        const store = await DuckDBTraceStore.open({ dataDir: join(dir, 'append') });
        append.push(
          await measure(total, async () => {
            for (let i = 0; i < converted.length; i += 10) await store.append(converted.slice(i, i + 10).flat());
            await store.close(); // includes the final checkpoint
          }),
        );
        converted.length = 0;

        const c = await startCollector({ dataDir: join(dir, 'collector'), httpPort: 0, grpcPort: false });
        ingest.push(
          await measure(total, async () => {
            refused += await client.send(c.httpPort as number);
            await c.flush();
          }),
        );
        const stored = (await c.store.stats()).spans;
        if (stored !== total) throw new Error(`expected ${total} spans stored, found ${stored}`);
        await c.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    client.stop();
  }

  const med = (xs: Figure[], k: keyof Figure) => median(xs.map((x) => x[k]));
  const base = med(decodeOnly, 'cpuSpansPerS');
  const row = (name: string, xs: Figure[]) => [
    name,
    Math.round(med(xs, 'wallSpansPerS')).toLocaleString('en-US'),
    Math.round(med(xs, 'cpuSpansPerS')).toLocaleString('en-US'),
    `${(med(xs, 'cpuSpansPerS') / base).toFixed(3)}×`,
  ];
  console.log(
    table([
      ['stage (same spans, same run)', 'spans/s wall', 'spans/CPU-s', 'vs decode-only'],
      row('baseline: protobuf decode only', decodeOnly),
      row('decode + convert to model', convert),
      row('DuckDB store append only (pre-converted)', append),
      row('full ingest: OTLP/HTTP → store (collector)', ingest),
    ]),
  );
  const oneCore = med(ingest, 'cpuSpansPerS');
  console.log(
    `ingest on one core: ${Math.round(oneCore).toLocaleString('en-US')} spans/s (target ≥ 50,000: ${oneCore >= 50_000 ? 'met' : 'NOT met'}); 429 retries during the run: ${refused}`,
  );
}
