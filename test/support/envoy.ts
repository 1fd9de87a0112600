// Runs the real Envoy (installed by `npm run setup`) for a test: writes the bootstrap, starts
// Envoy on 127.0.0.1, waits for the admin /ready endpoint, and stops it in teardown.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envoyPath } from '../../core/envoy-binary.ts';
import { freePort } from './ports.ts';
import { type OwnedProcess, type Teardown, startProcess, waitFor } from './process.ts';

export interface RunningEnvoy {
  adminPort: number;
  process: OwnedProcess;
  /** Envoy's log so far — attach to assertion messages. */
  logs(): string;
  /** Counter/gauge values from /stats, optionally filtered by a substring. */
  stats(filter?: string): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export type Bootstrap = Record<string, unknown>;

/**
 * Starts Envoy with `bootstrap` (an object; the admin block is filled in here). Hot restart is
 * disabled so concurrent Envoys never fight over the shared-memory base id.
 */
export async function startEnvoy(
  t: Teardown | undefined,
  bootstrap: Bootstrap,
  options: { logLevel?: string; concurrency?: number; readyTimeoutMs?: number } = {},
): Promise<RunningEnvoy> {
  const adminPort = await freePort();
  const config = {
    ...bootstrap,
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
  };
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-envoy-'));
  const file = join(dir, 'bootstrap.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = startProcess(t, envoyPath(), [
    '-c',
    file,
    '--disable-hot-restart',
    '--concurrency',
    String(options.concurrency ?? 1),
    '--log-level',
    options.logLevel ?? 'warn',
  ]);
  const admin = `http://127.0.0.1:${adminPort}`;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => {
    exitCode = c;
  });
  try {
    await waitFor(
      'Envoy to become ready',
      async () => {
        if (exitCode !== undefined) throw new Error(`Envoy exited with code ${exitCode}`);
        const res = await fetch(`${admin}/ready`);
        return res.status === 200;
      },
      options.readyTimeoutMs ?? 20000,
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n--- envoy output ---\n${proc.output()}`);
  }
  return {
    adminPort,
    process: proc,
    logs: proc.output,
    async stats(filter?: string) {
      const url = `${admin}/stats${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`;
      const text = await (await fetch(url)).text();
      const out = new Map<string, number>();
      for (const line of text.split('\n')) {
        const m = /^([^:]+): (\d+)$/.exec(line.trim());
        if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
      }
      return out;
    },
    stop: () => proc.stop(),
  };
}

/** A static cluster of 127.0.0.1 endpoints. */
export function localCluster(name: string, ports: number[], extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: ports.map((port) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } },
          })),
        },
      ],
    },
    ...extra,
  };
}

/** The Wasm HTTP filter entry that loads a .wasm file with the V8 runtime. */
export function wasmHttpFilter(
  wasmFile: string,
  configuration: unknown,
  opts: { vmId?: string; rootId?: string } = {},
) {
  return {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'meshtrace',
        root_id: opts.rootId ?? 'meshtrace',
        configuration: {
          '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: typeof configuration === 'string' ? configuration : JSON.stringify(configuration),
        },
        vm_config: {
          vm_id: opts.vmId ?? 'meshtrace',
          runtime: 'envoy.wasm.runtime.v8',
          code: { local: { filename: wasmFile } },
        },
      },
    },
  };
}

/**
 * One HTTP listener on 127.0.0.1:`listenPort` routing everything to cluster `upstream`, with
 * `httpFilters` placed before the router. Envoy's own tracing is off unless `tracing` is given.
 */
export function proxyBootstrap(opts: {
  listenPort: number;
  upstreamPorts: number[];
  httpFilters?: unknown[];
  extraClusters?: unknown[];
  routeExtra?: Record<string, unknown>;
  hcmExtra?: Record<string, unknown>;
}): Bootstrap {
  return {
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: opts.listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: {
                      name: 'local',
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [
                            {
                              match: { prefix: '/' },
                              route: { cluster: 'upstream', timeout: '10s', ...opts.routeExtra },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      ...(opts.httpFilters ?? []),
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                      },
                    ],
                    ...opts.hcmExtra,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [localCluster('upstream', opts.upstreamPorts), ...(opts.extraClusters ?? [])],
    },
  };
}
