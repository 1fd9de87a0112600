// `meshtrace demo` (`npm run demo`; `npm start` runs the whole local mesh, `meshtrace up`): a sample HTTP service on 127.0.0.1, the real Envoy
// with the built meshtrace filter in front of it, and a few requests — no context, W3C, B3 and
// Jaeger — showing what the service received and what the client got back. Everything it starts
// is stopped on exit and on Ctrl-C. A later `meshtrace up` replaces this with a local mesh.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envoyPath, repoRoot } from '../../core/envoy-binary.ts';

export const summary = 'start a sample service behind Envoy + the meshtrace filter and show traced requests';

const DEFAULT_WASM = join(repoRoot, 'wasm-filters', 'build', 'meshtrace-filter.wasm');
/** Plugin configuration handed to the filter (its defaults: accept every format, emit W3C). */
const FILTER_CONFIG = {};
/** Headers worth showing: every trace-context format meshtrace reads or writes. */
const TRACE_HEADER =
  /^(traceparent|tracestate|traceresponse|baggage|b3|x-b3-.*|uber-trace-id|uberctx-.*|x-meshtrace.*)$/;

const SAMPLES: { title: string; headers: Record<string, string> }[] = [
  { title: 'no inbound context (the filter starts a trace)', headers: {} },
  {
    title: 'W3C traceparent + tracestate',
    headers: {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=opaque',
    },
  },
  { title: 'B3 single header', headers: { b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } },
  {
    title: 'B3 multi-header',
    headers: {
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
      'x-b3-sampled': '1',
    },
  },
  {
    title: 'Jaeger uber-trace-id',
    headers: { 'uber-trace-id': '6e0c63257de34c92bf9efcd03927272e:2da5b1c0e1a1b7b0:0:1' },
  },
];

class DemoError extends Error {}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

function traceHeaders(headers: IncomingHttpHeaders | Headers): [string, string][] {
  const entries: [string, string][] =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]);
  return entries.filter(([k]) => TRACE_HEADER.test(k)).sort(([a], [b]) => a.localeCompare(b));
}

function bootstrap(listenPort: number, adminPort: number, servicePort: number, wasm: string) {
  const router = {
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  };
  const filter = {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'meshtrace',
        root_id: 'meshtrace',
        configuration: {
          '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: JSON.stringify(FILTER_CONFIG),
        },
        vm_config: { vm_id: 'meshtrace', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: wasm } } },
      },
    },
  };
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'demo',
          address: { socket_address: { address: '127.0.0.1', port_value: listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'demo',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'service' } }],
                        },
                      ],
                    },
                    http_filters: [filter, router],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'service',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'service',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: servicePort } } } },
                ],
              },
            ],
          },
        },
      ],
    },
  };
}

/** Everything the demo started, stopped in reverse order exactly once. */
class Resources {
  private stops: (() => Promise<void>)[] = [];
  private stopping: Promise<void> | undefined;
  add(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
    })();
    return this.stopping;
  }
}

function startService(
  resources: Resources,
): Promise<{ server: Server; port: number; last: () => IncomingHttpHeaders }> {
  let lastHeaders: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    lastHeaders = req.headers;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello from the sample service\n');
    });
  });
  resources.add(
    () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  return new Promise((done, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (!addr || typeof addr === 'string') return reject(new Error('sample service did not bind'));
      done({ server, port: addr.port, last: () => lastHeaders });
    });
  });
}

async function startEnvoy(
  resources: Resources,
  wasm: string,
  servicePort: number,
): Promise<{ child: ChildProcess; listenPort: number; adminPort: number; output: () => string }> {
  const binary = envoyPath(); // throws naming `npm run setup` when Envoy is not installed
  const [listenPort, adminPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-demo-'));
  const file = join(dir, 'envoy.json');
  writeFileSync(file, JSON.stringify(bootstrap(listenPort, adminPort, servicePort, wasm), null, 2));
  const child = spawn(binary, ['-c', file, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null) done();
    else child.once('exit', () => done());
  });
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DemoError(
        `Envoy exited while starting (code ${child.exitCode ?? child.signalCode}):\n${output.slice(-3000)}`,
      );
    }
    const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new DemoError(`Envoy was not ready within 30 s:\n${output.slice(-3000)}`);
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, listenPort, adminPort, output: () => output };
}

/** The filter's counters as Envoy reports them on its admin /stats endpoint. */
async function filterCounters(adminPort: number): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats?filter=wasmcustom`)).text();
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^wasmcustom\.\S+: \d+$/.test(l)); // stats the plugin defined
}

function show(label: string, headers: [string, string][]): void {
  if (headers.length === 0) {
    console.log(`   ${label.padEnd(18)}(no trace headers)`);
    return;
  }
  headers.forEach(([k, v], i) => {
    console.log(`   ${(i === 0 ? label : '').padEnd(18)}${k}: ${v}`);
  });
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      wasm: { type: 'string' },
      serve: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'usage: meshtrace demo [--wasm PATH] [--serve]\n  --wasm PATH  filter to load (default wasm-filters/build/meshtrace-filter.wasm)\n  --serve      keep Envoy and the service running until Ctrl-C',
    );
    return 0;
  }
  const wasm = resolve(values.wasm ?? DEFAULT_WASM);
  if (!existsSync(wasm)) {
    console.error(
      `meshtrace demo: the filter ${wasm} is missing. Run \`npm run setup\` (or \`npm run build:wasm\`) first.`,
    );
    return 1;
  }
  const resources = new Resources();
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`\n${signal}: stopping Envoy and the sample service…`);
    void resources.stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log('meshtrace demo — the meshtrace Proxy-Wasm filter in real Envoy, in front of a sample service');
    const service = await startService(resources);
    console.log(`[1/3] sample service listening on 127.0.0.1:${service.port}`);
    process.stdout.write(`[2/3] starting Envoy with ${relative(process.cwd(), wasm) || wasm} `);
    const t0 = Date.now();
    const envoy = await startEnvoy(resources, wasm, service.port);
    console.log(
      ` ready on 127.0.0.1:${envoy.listenPort} (envoy pid ${envoy.child.pid}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    console.log('[3/3] sending requests through Envoy\n');
    for (const [i, sample] of SAMPLES.entries()) {
      const res = await fetch(`http://127.0.0.1:${envoy.listenPort}/hello`, { headers: sample.headers });
      await res.text();
      console.log(`${i + 1}. ${sample.title} → HTTP ${res.status}`);
      show('client sent', Object.entries(sample.headers));
      show('service received', traceHeaders(service.last()));
      show('client got back', traceHeaders(res.headers));
      console.log('');
    }
    console.log("the filter's counters in Envoy (admin /stats):");
    for (const line of await filterCounters(envoy.adminPort)) console.log(`   ${line}`);
    console.log('');
    if (values.serve) {
      console.log(`serving: curl -v http://127.0.0.1:${envoy.listenPort}/ — press Ctrl-C to stop`);
      await new Promise<never>(() => undefined);
    }
    return 0;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`\nmeshtrace demo: ${msg}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await resources.stopAll();
    console.log('stopped Envoy and the sample service');
  }
}
