// A/B load comparison through real Envoy. One proxy Envoy (concurrency 1) carries one listener
// per configuration, all routing to the same upstream — a second Envoy answering with a
// direct_response, so the upstream costs little CPU and behaves the same for every row.
// Rounds alternate between configurations (A B C, C B A, …) after a warm-up, so drift on a shared
// machine lands on every row alike. Reported per row: requests/s, p50 and p99 latency, and the
// proxy's CPU time per request; ratios are against the first (baseline) configuration.
import { localCluster, type RunningEnvoy, startEnvoy } from '../../test/support/envoy.ts';
import { freePort } from '../../test/support/ports.ts';
import { type LoadResult, runLoad } from './load.ts';
import { cpuSeconds } from './proc-cpu.ts';
import { median, table } from './stats.ts';

export interface BenchConfig {
  /** Row label, e.g. "no filter", "filter", "filter + sampling + export". */
  name: string;
  /** HTTP filters placed before the router on this configuration's listener. */
  httpFilters?: unknown[];
  /** Extra HttpConnectionManager fields (e.g. Envoy's own `tracing` block). */
  hcmExtra?: Record<string, unknown>;
  /** Clusters this configuration needs besides the upstream (e.g. a collector). */
  clusters?: unknown[];
  /** Request headers sent by the load generator for this row. */
  headers?: Record<string, string>;
  /**
   * A second hop in the same Envoy: the row's listener routes to a listener with these filters,
   * which routes to the upstream (a sidecar's inbound → app → outbound, with the app elided).
   */
  hop?: { httpFilters: unknown[] };
}

export interface AbOptions {
  warmupS: number;
  roundS: number;
  rounds: number;
  connections: number;
  /** Offered requests/s per round (same for every row); unset = closed loop, as fast as answered. */
  rate?: number;
}

export interface RowResult {
  name: string;
  rounds: LoadResult[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  non2xx: number;
  errors: number;
}

const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

/** One 127.0.0.1 HTTP listener: every path to `route`, `httpFilters` before the router. */
export function hcmListener(
  name: string,
  port: number,
  route: Record<string, unknown>,
  httpFilters: unknown[] = [],
  hcmExtra: Record<string, unknown> = {},
) {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type':
                'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: name,
              route_config: {
                virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, ...route }] }],
              },
              http_filters: [...httpFilters, ROUTER],
              ...hcmExtra,
            },
          },
        ],
      },
    ],
  };
}

async function startUpstreamEnvoy(): Promise<{ envoy: RunningEnvoy; port: number }> {
  const port = await freePort();
  const route = { direct_response: { status: 200, body: { inline_string: 'ok' } } };
  const envoy = await startEnvoy(undefined, {
    static_resources: { listeners: [hcmListener('upstream', port, route)] },
  });
  return { envoy, port };
}

/** Runs the comparison, printing progress to stderr; returns one row per configuration. */
export async function compareThroughEnvoy(configs: BenchConfig[], opts: AbOptions): Promise<RowResult[]> {
  const started: RunningEnvoy[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((e) => e.stop()));
  };
  const onSignal = () => {
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const upstream = await startUpstreamEnvoy();
    started.push(upstream.envoy);
    const ports = await Promise.all(configs.map(() => freePort()));
    const hopPorts = await Promise.all(configs.map((c) => (c.hop ? freePort() : Promise.resolve(0))));
    const proxy = await startEnvoy(
      undefined,
      {
        static_resources: {
          listeners: configs.flatMap((c, i) => [
            hcmListener(
              `row${i}`,
              ports[i] as number,
              { route: { cluster: c.hop ? `row${i}-hop` : 'upstream' } },
              c.httpFilters,
              c.hcmExtra,
            ),
            ...(c.hop
              ? [
                  hcmListener(
                    `row${i}-hop`,
                    hopPorts[i] as number,
                    { route: { cluster: 'upstream' } },
                    c.hop.httpFilters,
                  ),
                ]
              : []),
          ]),
          clusters: [
            localCluster('upstream', [upstream.port]),
            ...configs.flatMap((c, i) => (c.hop ? [localCluster(`row${i}-hop`, [hopPorts[i] as number])] : [])),
            ...configs.flatMap((c) => c.clusters ?? []),
          ],
        },
      },
      { concurrency: 1, readyTimeoutMs: 30000 },
    );
    started.push(proxy);
    const pid = proxy.process.child.pid as number;
    const url = (i: number) => `http://127.0.0.1:${ports[i]}/bench`;

    process.stderr.write(`warm-up ${opts.warmupS}s per configuration…\n`);
    for (const [i, c] of configs.entries()) {
      const r = await runLoad(url(i), { connections: opts.connections, durationS: opts.warmupS, headers: c.headers });
      if (r.requests === 0 || r.non2xx === r.requests) {
        throw new Error(`configuration "${c.name}" answered no 2xx during warm-up\n${proxy.logs().slice(-2000)}`);
      }
    }
    const rounds: LoadResult[][] = configs.map(() => []);
    const cpu: number[] = configs.map(() => 0);
    for (let round = 0; round < opts.rounds; round++) {
      // A B C, then C B A: a linear drift over the run lands on every row alike.
      const order = [...configs.entries()];
      if (round % 2 === 1) order.reverse();
      for (const [i, c] of order) {
        const before = cpuSeconds(pid);
        const r = await runLoad(url(i), {
          connections: opts.connections,
          durationS: opts.roundS,
          headers: c.headers,
          rate: opts.rate,
        });
        cpu[i] = (cpu[i] as number) + cpuSeconds(pid) - before;
        rounds[i]?.push(r);
        process.stderr.write(
          `round ${round + 1}/${opts.rounds} ${c.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms\n`,
        );
      }
    }
    return configs.map((c, i) => {
      const rs = rounds[i] as LoadResult[];
      const requests = rs.reduce((n, r) => n + r.requests, 0);
      const seconds = rs.reduce((n, r) => n + r.durationS, 0);
      return {
        name: c.name,
        rounds: rs,
        rps: requests / seconds,
        p50Ms: median(rs.map((r) => r.p50Ms)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        cpuUsPerRequest: ((cpu[i] as number) / requests) * 1e6,
        non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
        errors: rs.reduce((n, r) => n + r.errors, 0),
      };
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}

/** The result table: one row per configuration, ratios against the first row. */
export function formatRows(rows: RowResult[]): string {
  const base = rows[0];
  const header = [
    'configuration',
    'req/s',
    'p50 ms',
    'p99 ms',
    'envoy CPU µs/req',
    'req/s ratio',
    'CPU ratio',
    'non-2xx',
    'errors',
  ];
  const body = rows.map((r) => [
    r.name,
    r.rps.toFixed(0),
    r.p50Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.cpuUsPerRequest.toFixed(1),
    base ? `${(r.rps / base.rps).toFixed(3)}x` : '-',
    base ? `${(r.cpuUsPerRequest / base.cpuUsPerRequest).toFixed(3)}x` : '-',
    String(r.non2xx),
    String(r.errors),
  ]);
  return table([header, ...body]);
}
