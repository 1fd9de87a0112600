// The service's own metrics, kept in-process and served as Prometheus text (optional HTTP port).
// Bounded by construction: a fixed set of counter names and one latency histogram per RPC.
import { createServer, type Server } from 'node:http';

/** Upper bounds in milliseconds; chosen around Envoy's default 200 ms ext_proc message timeout. */
const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 200, 500];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  sum = 0;
  n = 0;
  observe(ms: number) {
    let i = LATENCY_BUCKETS_MS.findIndex((b) => ms <= b);
    if (i < 0) i = LATENCY_BUCKETS_MS.length;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += ms;
    this.n++;
  }
}

export type Counter =
  | 'streams_total'
  | 'checks_total'
  | 'checks_denied_total'
  | 'messages_total'
  | 'spans_started_total'
  | 'spans_ended_total'
  | 'spans_kept_by_error_total'
  | 'stream_errors_total'
  | 'stream_cancelled_total'
  | 'malformed_requests_total'
  | 'secrets_dropped_total'
  | 'jwt_verified_total'
  | 'jwt_unverified_total'
  | 'jwt_cache_hits_total';

export class Metrics {
  private readonly counters = new Map<Counter, number>();
  activeStreams = 0;
  /** Counters kept elsewhere (SDK export, sampler), read at render time. */
  external: () => Record<string, number> = () => ({});
  readonly latency = { process: new Histogram(), check: new Histogram() };

  inc(name: Counter, by = 1) {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  get(name: Counter): number {
    return this.counters.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = { ...Object.fromEntries(this.counters), ...this.external() };
    out.active_streams = this.activeStreams;
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const lines: string[] = [];
    for (const [name, v] of [...this.counters, ...Object.entries(this.external())].sort()) {
      lines.push(`# TYPE meshtrace_ext_${name} counter`, `meshtrace_ext_${name} ${v}`);
    }
    lines.push('# TYPE meshtrace_ext_active_streams gauge', `meshtrace_ext_active_streams ${this.activeStreams}`);
    for (const [rpc, h] of Object.entries(this.latency)) {
      const name = `meshtrace_ext_${rpc}_message_latency_ms`;
      lines.push(`# TYPE ${name} histogram`);
      let cum = 0;
      LATENCY_BUCKETS_MS.forEach((b, i) => {
        cum += h.counts[i] ?? 0;
        lines.push(`${name}_bucket{le="${b}"} ${cum}`);
      });
      lines.push(`${name}_bucket{le="+Inf"} ${h.n}`, `${name}_sum ${h.sum}`, `${name}_count ${h.n}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Serves GET /metrics on host:port; resolves with the bound port. */
export async function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.prometheus());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : port };
}
