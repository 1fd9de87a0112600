// `meshtrace up`: a small local mesh on 127.0.0.1, built from the same generators operators use.
//
//   client ─▶ [gateway Envoy + ext_proc] ─▶ [sidecar]─▶ storefront (Node)
//                                              storefront ─▶ [sidecar out]─▶ [sidecar]─▶ inventory (Python)
//                                              inventory  ─▶ [sidecar out]─▶ [sidecar]─▶ pricing (Go)
//                                              pricing    ─▶ [sidecar tcp]─▶ redis-server
//   ext_proc ─OTLP─▶ collector (DuckDB store, web UI, Jaeger API)
//
// Every child runs in its own process group, logs to .meshtrace/logs/, and is recorded in
// .meshtrace/state.json as soon as it starts, so `meshtrace down` (or Ctrl-C here) stops all.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { envoyPath, repoRoot } from '../../core/envoy-binary.ts';
import type { JaegerTrace } from '../../visualization/index.ts';
import { gatewayBootstrap, sidecarBootstrap } from '../envoy/bootstrap.ts';
import { readAccessLog } from './access-log.ts';
import { httpOk, tcpOpen } from './net-probes.ts';
import { buildPricing, prerequisites, SERVICES_DIR, WASM } from './prerequisites.ts';
import {
  type ChildRecord,
  clearState,
  type MeshState,
  readState,
  stateDir,
  stopGroup,
  writeState,
  alive,
} from './state.ts';
import { allocatePorts, localMeshConfig } from './topology.ts';

export interface UpOptions {
  /** Stop after the traffic and summary instead of waiting for Ctrl-C / `meshtrace down`. */
  once?: boolean;
  /** Requests driven through the gateway (default 12). */
  requests?: number;
  /** Gateway port; default 8080 when free, else any free port. */
  gatewayPort?: number;
  log?: (line: string) => void;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, child: ChildRecord, logFile: string, ms = 30000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(child.pid)) throw new Error(`${what} exited during start — see ${logFile}:\n${tail(logFile)}`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${ms / 1000} s — see ${logFile}:\n${tail(logFile)}`);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

export async function up(opts: UpOptions = {}): Promise<number> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const dir = stateDir();
  const existing = readState(dir);
  if (existing && alive(existing.supervisor)) {
    log(`meshtrace up: a local mesh is already running (pid ${existing.supervisor}); run \`meshtrace down\` first`);
    return 1;
  }
  if (existing) {
    // A previous `up` died without cleaning up: stop what it left behind first.
    for (const c of existing.children) await stopGroup(c.pid);
    clearState(dir);
  }

  log('meshtrace up: checking prerequisites');
  const pre = prerequisites();
  if (pre.missing.length > 0) {
    for (const m of pre.missing) log(`  ✗ ${m}`);
    return 1;
  }

  const logs = join(dir, 'logs');
  const confDir = join(dir, 'config');
  // Each `up` starts from empty logs and an empty trace store, so the summary describes this run.
  rmSync(logs, { recursive: true, force: true });
  rmSync(join(dir, 'collector-data'), { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  const state: MeshState = { supervisor: process.pid, startedAt: new Date().toISOString(), children: [], urls: {} };
  writeState(state, dir);

  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      log('meshtrace: stopping the local mesh');
      // Reverse start order: the gateway stops taking traffic before its backends go.
      for (const c of [...state.children].reverse()) await stopGroup(c.pid);
      clearState(dir);
      log('meshtrace: stopped');
    })();
    return stopping;
  };
  const onSignal = () => {
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const start = (name: string, cmd: string, args: string[], env: Record<string, string> = {}) => {
    const file = join(logs, `${name}.log`);
    const fd = openSync(file, 'a');
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
      detached: true, // own process group: Ctrl-C reaches only us, we stop the group
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
    const rec = { name, pid: child.pid };
    state.children.push(rec);
    writeState(state, dir);
    return { rec, file };
  };

  try {
    const pricingBin = buildPricing(pre.goBin as string, log);
    const ports = await allocatePorts(opts.gatewayPort);
    const cfg = localMeshConfig(ports);
    writeFileSync(join(confDir, 'meshtrace.yaml'), stringify(cfg));

    log('meshtrace up: starting the collector');
    const node = process.execPath;
    const tsx = ['--import=tsx'];
    const col = start('collector', node, [
      ...tsx,
      join(repoRoot, 'mesh-config', 'local', 'collector-child.ts'),
      join(dir, 'collector-data'),
      String(ports.otlpHttp),
      String(ports.otlpGrpc),
      String(ports.api),
    ]);
    await waitUntil(
      'the collector',
      () => httpOk(`http://127.0.0.1:${ports.api}/api/services`),
      col.rec,
      col.file,
      60000,
    );

    log('meshtrace up: starting redis-server and the three sample services (Node, Python, Go)');
    const redis = start('redis', 'redis-server', [
      '--port',
      String(ports.redis),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    const storefront = start('storefront', node, [join(SERVICES_DIR, 'storefront.mjs')], {
      PORT: String(ports.app.storefront),
      INVENTORY_URL: `http://127.0.0.1:${ports.out.storefront}`,
    });
    const inventory = start('inventory', pre.python as string, ['-u', join(SERVICES_DIR, 'inventory.py')], {
      PORT: String(ports.app.inventory),
      PRICING_URL: `http://127.0.0.1:${ports.out.inventory}`,
    });
    const pricing = start('pricing', pricingBin, [], {
      PORT: String(ports.app.pricing),
      REDIS_ADDR: `127.0.0.1:${ports.out.pricing}`,
    });
    await waitUntil('redis-server', () => tcpOpen(ports.redis), redis.rec, redis.file);
    await waitUntil(
      'storefront',
      () => httpOk(`http://127.0.0.1:${ports.app.storefront}/healthz`),
      storefront.rec,
      storefront.file,
    );
    await waitUntil(
      'inventory',
      () => httpOk(`http://127.0.0.1:${ports.app.inventory}/healthz`),
      inventory.rec,
      inventory.file,
    );
    await waitUntil(
      'pricing',
      () => httpOk(`http://127.0.0.1:${ports.app.pricing}/healthz`),
      pricing.rec,
      pricing.file,
    );

    log('meshtrace up: starting ext_proc (edge)');
    const extConf = join(confDir, 'ext-proc.yaml');
    writeFileSync(
      extConf,
      stringify({
        listen: { host: '127.0.0.1', port: ports.extProc },
        serviceName: 'meshtrace-edge',
        otlp: { endpoint: `http://127.0.0.1:${ports.otlpHttp}/v1/traces`, scheduledDelayMs: 200 },
      }),
    );
    const ext = start('ext-proc', node, [...tsx, join(repoRoot, 'cli', 'main.ts'), 'ext-proc', '--config', extConf]);
    await waitUntil('ext_proc', () => tcpOpen(ports.extProc), ext.rec, ext.file);

    log('meshtrace up: starting Envoy: 3 sidecars and the edge gateway, the meshtrace filter in each');
    const envoys: { name: string; bootstrap: Record<string, unknown> }[] = [
      ...(['storefront', 'inventory', 'pricing'] as const).map((s) => ({
        name: `sidecar-${s}`,
        bootstrap: sidecarBootstrap(cfg, s, { wasmFile: WASM, accessLogPath: join(logs, `sidecar-${s}-access.log`) }),
      })),
      {
        name: 'gateway',
        bootstrap: gatewayBootstrap(cfg, { wasmFile: WASM, accessLogPath: join(logs, 'gateway-access.log') }),
      },
    ];
    const started: { name: string; rec: ChildRecord; file: string; admin: number }[] = [];
    for (const e of envoys) {
      const admin = ports.admin[e.name] as number;
      const file = join(confDir, `${e.name}.yaml`);
      writeFileSync(
        file,
        stringify({
          ...e.bootstrap,
          admin: { address: { socket_address: { address: '127.0.0.1', port_value: admin } } },
        }),
      );
      const s = start(e.name, envoyPath(), [
        '-c',
        file,
        '--disable-hot-restart',
        '--concurrency',
        '1',
        '--log-level',
        'warn',
        // Access logs reach the files within half a second (Envoy's default is 10 s).
        '--file-flush-interval-msec',
        '500',
      ]);
      started.push({ name: e.name, ...s, admin });
    }
    for (const s of started)
      await waitUntil(`Envoy ${s.name}`, () => httpOk(`http://127.0.0.1:${s.admin}/ready`), s.rec, s.file, 60000);

    const gw = `http://127.0.0.1:${ports.gateway}`;
    state.urls = {
      gateway: `${gw}/shop/items/42`,
      ui: `http://127.0.0.1:${ports.api}/`,
      jaeger_api: `http://127.0.0.1:${ports.api}/api`,
      collector_status: `http://127.0.0.1:${ports.api}/api/meshtrace/status`,
      otlp_http: `http://127.0.0.1:${ports.otlpHttp}/v1/traces`,
      envoy_admin_gateway: `http://127.0.0.1:${ports.admin.gateway}`,
      logs: logs,
      config: confDir,
    };
    writeState(state, dir);

    const n = opts.requests ?? 12;
    log(`meshtrace up: driving ${n} requests through the gateway`);
    const statuses = new Map<number, number>();
    let sample: unknown;
    for (let i = 0; i < n; i++) {
      const headers: Record<string, string> =
        i % 2 === 0 ? { traceparent: `00-${'ab'.repeat(15)}${String(i).padStart(2, '0')}-00f067aa0ba902b7-01` } : {};
      try {
        const res = await fetch(`${gw}/shop/items/item-${i % 4}`, { headers, signal: AbortSignal.timeout(10000) });
        const body = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.ok && sample === undefined) sample = JSON.parse(body);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
    }
    // Let access logs flush (500 ms), ext_proc export its spans and every filter send its
    // partial batch on its next tick (export.flush_interval_ms, 1 s).
    await new Promise((r) => setTimeout(r, 2500));
    const api = `http://127.0.0.1:${ports.api}/api`;
    const getData = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(10000) });
      if (!res.ok) throw new Error(`collector API ${path}: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { data: T }).data;
    };
    const status = await getData<{ store: { spans: number; traces: number } }>('/meshtrace/status');
    const services = await getData<string[]>('/services');

    log('');
    log('── summary ─────────────────────────────────────────────────────────────');
    log(`requests: ${[...statuses].map(([s, c]) => `${c}× ${s === 0 ? 'failed' : s}`).join(', ')}`);
    if (sample) log(`one response: ${JSON.stringify(sample)}`);
    log('hops, in request order (Envoy access logs; a hop "continues" the traces of the hop before it):');
    const all = ['gateway', 'sidecar-storefront', 'sidecar-inventory', 'sidecar-pricing'].flatMap((f) =>
      readAccessLog(join(logs, `${f}-access.log`)),
    );
    const hops = [
      'gateway',
      'storefront-inbound',
      'storefront-outbound',
      'inventory-inbound',
      'inventory-outbound',
      'pricing-inbound',
      'pricing-outbound-tcp',
    ];
    let previous: Set<string> | undefined;
    for (const role of hops) {
      const lines = all.filter((l) => l.role === role);
      const traces = new Set(lines.map((l) => l.trace_id).filter((x): x is string => typeof x === 'string'));
      let note = '';
      if (role.endsWith('-tcp')) note = 'connections to redis (TCP: no headers to carry context)';
      else if (previous) {
        const continued = [...traces].filter((tr) => previous?.has(tr)).length;
        note = `continues ${continued}/${traces.size}${role.endsWith('-outbound') ? ' — the service forwards no trace headers; its sidecar linked its calls' : ''}`;
      }
      log(
        `  ${role.padEnd(22)} ${String(lines.length).padStart(3)} requests, ${String(traces.size).padStart(3)} traces  ${note}`,
      );
      if (!role.endsWith('-tcp')) previous = traces;
    }
    log(
      `collector: ${status.store.spans} spans in ${status.store.traces} traces from ${services.join(', ') || 'no service'}`,
    );
    // Logs ↔ traces: every trace that passed the edge should appear in the gateway access log
    // (the filter's context is what ext_proc continues and what the log line records). Traces
    // the sidecars start past a service (which forwards no headers) never passed the edge.
    const stored = await getData<JaegerTrace[]>('/traces?service=meshtrace-edge&limit=100');
    const gatewayLines = readAccessLog(join(logs, 'gateway-access.log'));
    const logged = new Set(gatewayLines.map((l) => l.trace_id));
    const matched = stored.filter((t) => logged.has(t.traceID)).length;
    log(
      `logs ↔ traces: ${matched}/${stored.length} collector traces through the edge have a gateway access-log line with the same trace id`,
    );
    // Span level: the edge span ext_proc exports is a child of the filter's span, whose id the
    // gateway access log records — so a log line points at the exact span (first 20 traces,
    // each fetched by id as a user following the log line would).
    const loggedSpans = new Set(gatewayLines.map((l) => `${l.trace_id}/${l.span_id}`));
    let parented = 0;
    const sampleTraces = stored.slice(0, 20);
    for (const t of sampleTraces) {
      const [trace] = await getData<JaegerTrace[]>(`/traces/${t.traceID}`);
      const refs = (trace?.spans ?? []).flatMap((sp) => sp.references.filter((r) => r.refType === 'CHILD_OF'));
      if (refs.some((r) => loggedSpans.has(`${r.traceID}/${r.spanID}`))) parented++;
    }
    log(
      `logs ↔ spans: ${parented}/${sampleTraces.length} traces have a span whose parent is the span id in the gateway access log`,
    );
    log('note: the sample services forward no trace headers; each sidecar links the calls its');
    log('      service makes to the request it is serving (online linking), so a request is one');
    log('      trace from the edge to Redis. Spans reach the collector from ext_proc at the edge');
    log('      and from the Wasm filter in the gateway and every sidecar.');
    log('');
    log('where to look:');
    for (const [k, v] of Object.entries(state.urls)) log(`  ${k.padEnd(20)} ${v}`);
    log('─────────────────────────────────────────────────────────────────────────');

    if (opts.once) {
      await stopAll();
      return statuses.get(200) === n ? 0 : 1;
    }
    log('meshtrace up: running. Ctrl-C or `meshtrace down` stops everything.');
    // Children are unref'd; this timer keeps the supervisor alive until a signal arrives
    // (onSignal stops everything and exits).
    setInterval(() => {}, 1 << 30);
    await new Promise<void>(() => {});
    return 0;
  } catch (err) {
    log(`meshtrace up: ${(err as Error).message}`);
    await stopAll();
    return 1;
  } finally {
    if (opts.once) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
