// `npm run bench:ext-proc` — latency Envoy adds with the meshtrace ext_proc service in the path,
// against the same Envoy without it, in the same run:
//
//   load (open loop, fixed rate) ─→ proxy Envoy (concurrency 1) ─ listener A: no filter ─────────┐
//                                                              ├ listener F: ext_proc → floor ──┤
//                                                              ├ listener B: ext_proc ──────────┤─→ upstream Envoy
//                                                              └ listener C: ext_proc (JWT…) ───┘   (direct_response)
//                                       meshtrace ext-proc (child process, gRPC) ←┘ B, C
//                                       └─→ OTLP sink (spans exported, answered 200)
//                                       bare grpc-js ext_proc (child process) ←┘ F
//
// Rows: A = Envoy alone (the baseline); F = the floor: the same grpc-js server and protos with a
// handler that only answers (bench/lib/ext-proc-floor-server.ts), i.e. what one gRPC bidi stream
// per request costs before any meshtrace work; B = meshtrace with the request this bench has
// always sent (traceparent only); C = meshtrace doing everything issue 4 lists on each request:
// a JWT to verify (ES256, JWKS file), an allow-listed header, a query parameter to redact.
//
// Fixed rate: requests are scheduled at R/s whatever the responses do, and latency is measured
// from the *scheduled* time, so a stall shows up as latency (no coordinated omission). Rounds
// alternate A F B C, C B F A … so drift on the shared machine lands on every row. "Added" is
// row − A per percentile. Max sustainable rate: closed-loop throughput (autocannon, N
// connections) per row. CPU: every process's CPU time per request during the fixed-rate rounds
// (/proc/<pid>/stat; the load generator's own via process.cpuUsage), which is steadier than
// latency on a shared machine and shows whether the rate fits the machine's cores at all.
// Target (printed, never asserted): p99 added ≤ 1 ms at 2,000 req/s.
//
// Options: --rate R (2000) --rounds N (3) --round-seconds S (5) --warmup-seconds S (2)
//          --connections N (16, max-rate phase) --max-seconds S (4)
//          --profile-service DIR (write the meshtrace service's V8 CPU profile there)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../core/envoy-binary.ts';
import { extProcFilter } from '../ext-authz/envoy-config.ts';
import { grpcCluster } from '../mesh-config/envoy/ext-service.ts';
import { makeKeys } from '../test/ext-authz/support/service.ts';
import { type Bootstrap, localCluster, startEnvoy } from '../test/support/envoy.ts';
import { freePort } from '../test/support/ports.ts';
import { type OwnedProcess, startProcess, type Teardown, waitFor } from '../test/support/process.ts';
import { hcmListener } from './lib/envoy-ab.ts';
import { runLoad } from './lib/load.ts';
import { cpuSeconds } from './lib/proc-cpu.ts';
import { percentile, table } from './lib/stats.ts';

const TARGET_ADDED_P99_MS = 1;
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface FixedRateResult {
  sent: number;
  ok: number;
  failed: number;
  /** Requests never sent because too many were outstanding (the proxy could not keep up). */
  shed: number;
  achievedRps: number;
  latencies: number[];
}

/** Open-loop load at `rate` req/s for `seconds`; latency from each request's scheduled time. */
async function fixedRate(
  url: string,
  rate: number,
  seconds: number,
  agent: Agent,
  headers: Record<string, string>,
): Promise<FixedRateResult> {
  const { hostname, port, pathname, search } = new URL(url);
  const path = pathname + search;
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let shed = 0;
  let outstanding = 0;
  const maxOutstanding = Math.max(64, rate / 4);
  const start = performance.now();
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  let next = 0;
  await new Promise<void>((resolve) => {
    const finish = () => {
      if (next >= total && outstanding === 0) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const scheduled = start + next * interval;
        next++;
        if (outstanding >= maxOutstanding) {
          shed++;
          continue;
        }
        outstanding++;
        sent++;
        const req = request({ hostname, port, path, agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            outstanding--;
            if (res.statusCode === 200) {
              ok++;
              latencies.push(performance.now() - scheduled);
            } else failed++;
            finish();
          });
        });
        req.on('error', () => {
          outstanding--;
          failed++;
          finish();
        });
        req.end();
      }
      if (next < total) setTimeout(tick, 1);
      else finish();
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  return { sent, ok, failed, shed, achievedRps: ok / elapsed, latencies };
}

/** CPU seconds of this process (the load generator and the OTLP sink). */
const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function startGrpcChild(
  owner: Teardown,
  what: string,
  args: string[],
): Promise<{ proc: OwnedProcess; port: number }> {
  const proc = startProcess(owner, process.execPath, args, { cwd: repoRoot });
  const port = await waitFor(
    `${what} ready`,
    () => {
      if (proc.child.exitCode !== null) throw new Error(`${what} exited ${proc.child.exitCode}: ${proc.output()}`);
      const m = /"msg":"ready".*?"port":(\d+)/.exec(proc.output());
      return m ? Number(m[1]) : undefined;
    },
    60000,
  );
  return { proc, port };
}

interface Row {
  name: string;
  /** Envoy listener stat prefix (ext_proc stats are http.<prefix>.ext_proc.*). */
  prefix: string;
  url: string;
  headers: Record<string, string>;
  /** The ext_proc service process this row talks to, if any. */
  servicePid?: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '3' },
      'round-seconds': { type: 'string', default: '5' },
      'warmup-seconds': { type: 'string', default: '2' },
      connections: { type: 'string', default: '16' },
      'max-seconds': { type: 'string', default: '4' },
      'profile-service': { type: 'string' },
    },
  });
  const num = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${values[name]}'`);
    return n;
  };
  const rate = num('rate');
  const rounds = num('rounds');
  const roundS = num('round-seconds');

  const cleanups: (() => void | Promise<void>)[] = [];
  const owner: Teardown = { teardown: (fn) => cleanups.push(fn) };
  try {
    // OTLP sink: spans really leave the service; the sink only counts bytes.
    let otlpBytes = 0;
    const sink = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        otlpBytes += c.length;
      });
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => sink.close(() => r())));
    const sinkPort = (sink.address() as { port: number }).port;

    const upstreamPort = await freePort();
    const upstream = await startEnvoy(owner, {
      static_resources: {
        listeners: [
          hcmListener('upstream', upstreamPort, { direct_response: { status: 200, body: { inline_string: 'ok' } } }),
        ],
      },
    });

    // The JWT is only present on row C's requests; row B's requests carry none, so for B the
    // configured verifier costs one header lookup.
    const keys = await makeKeys();
    const jwt = await keys.sign({ sub: 'bench-user', aud: 'meshtrace-bench' });
    const cfgFile = join(mkdtempSync(join(tmpdir(), 'meshtrace-bench-')), 'ext-proc.yaml');
    const metricsPort = await freePort();
    writeFileSync(
      cfgFile,
      JSON.stringify({
        listen: { port: 0 },
        otlp: { endpoint: `http://127.0.0.1:${sinkPort}/v1/traces`, scheduledDelayMs: 200 },
        enrich: {
          headers: ['user-agent', 'x-tenant'],
          jwt: {
            jwksFile: keys.jwksFile,
            issuer: 'https://issuer.test',
            audience: 'meshtrace-bench',
            claims: { sub: 'enduser.id' },
          },
        },
        metrics: { port: metricsPort },
        log: { level: 'warn' },
      }),
    );
    const profile = values['profile-service'] ? ['--cpu-prof', '--cpu-prof-dir', values['profile-service']] : [];
    const [svc, floor] = await Promise.all([
      startGrpcChild(owner, 'meshtrace ext-proc', [
        ...profile,
        '--import=tsx',
        join(repoRoot, 'cli/main.ts'),
        'ext-proc',
        '--config',
        cfgFile,
      ]),
      startGrpcChild(owner, 'bare grpc-js ext_proc', [
        '--import=tsx',
        join(repoRoot, 'bench/lib/ext-proc-floor-server.ts'),
      ]),
    ]);

    const [basePort, floorPort, extPort, fullPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const extFilter = (cluster: string) => [extProcFilter({ cluster, timeout: '0.2s' })];
    const toUpstream = { route: { cluster: 'upstream' } };
    const bootstrap: Bootstrap = {
      static_resources: {
        listeners: [
          hcmListener('baseline', basePort, toUpstream),
          hcmListener('floor', floorPort, toUpstream, extFilter('floor_ext')),
          hcmListener('ext_proc', extPort, toUpstream, extFilter('meshtrace_ext')),
          hcmListener('ext_proc_full', fullPort, toUpstream, extFilter('meshtrace_ext')),
        ],
        clusters: [
          localCluster('upstream', [upstreamPort]),
          grpcCluster('meshtrace_ext', '127.0.0.1', svc.port),
          grpcCluster('floor_ext', '127.0.0.1', floor.port),
        ],
      },
    };
    const proxy = await startEnvoy(owner, bootstrap, { concurrency: 1 });
    const svcPid = svc.proc.child.pid as number;
    const rows: Row[] = [
      {
        name: 'Envoy, no ext_proc',
        prefix: 'baseline',
        url: `http://127.0.0.1:${basePort}/bench`,
        headers: { traceparent: TRACEPARENT },
      },
      {
        name: 'Envoy + bare grpc-js ext_proc (floor)',
        prefix: 'floor',
        url: `http://127.0.0.1:${floorPort}/bench`,
        headers: { traceparent: TRACEPARENT },
        servicePid: floor.proc.child.pid as number,
      },
      {
        name: 'Envoy + meshtrace ext_proc',
        prefix: 'ext_proc',
        url: `http://127.0.0.1:${extPort}/bench`,
        headers: { traceparent: TRACEPARENT },
        servicePid: svcPid,
      },
      {
        name: 'Envoy + meshtrace ext_proc, JWT + header + redaction',
        prefix: 'ext_proc_full',
        url: `http://127.0.0.1:${fullPort}/bench/orders?id=42&token=bench-query-secret`,
        headers: {
          traceparent: TRACEPARENT,
          authorization: `Bearer ${jwt}`,
          'x-tenant': 'acme',
          'user-agent': 'bench',
        },
        servicePid: svcPid,
      },
    ];

    const agent = new Agent({ keepAlive: true, maxSockets: 512 });
    cleanups.push(() => agent.destroy());
    console.log(
      `bench:ext-proc — Envoy 1.40 (concurrency 1), ${rate} req/s open loop, ${rounds} alternating rounds of ${roundS}s per row; machine: ${cpus().length} cores shared, load average ${loadavg()[0]?.toFixed(1)} at start`,
    );
    for (const r of rows) await fixedRate(r.url, Math.min(rate, 500), num('warmup-seconds'), agent, r.headers);

    // Fail-open counted over the fixed-rate rounds only (warm-up excluded).
    const failOpenStats = async () =>
      [...(await proxy.stats('ext_proc'))].filter(([k]) =>
        /failure_mode_allowed|message_timeouts|streams_failed/.test(k),
      );
    const failOpenBefore = new Map(await failOpenStats());

    const results = rows.map(() => [] as FixedRateResult[]);
    // CPU per process during each row's rounds: [proxy Envoy, upstream Envoy, ext_proc service, load generator + sink].
    // `answered`: messages Envoy received from the service in time (its stream_msgs_received).
    // When Envoy fails open it stops sending a stream's messages, so CPU per request sent would
    // understate the service; CPU per answered message does not.
    const acc = rows.map(() => ({ cpu: [0, 0, 0, 0], sent: 0, answered: 0 }));
    const answeredSoFar = async (r: Row) =>
      (await proxy.stats(`http.${r.prefix}.ext_proc.stream_msgs_received`)).get(
        `http.${r.prefix}.ext_proc.stream_msgs_received`,
      ) ?? 0;
    const proxyPid = proxy.process.child.pid as number;
    const upstreamPid = upstream.process.child.pid as number;
    const sample = (r: Row) => [
      cpuSeconds(proxyPid),
      cpuSeconds(upstreamPid),
      r.servicePid === undefined ? 0 : cpuSeconds(r.servicePid),
      ownCpuSeconds(),
    ];
    for (let round = 0; round < rounds; round++) {
      // A F B C, then C B F A: a linear drift over the run lands on every row alike.
      const order = [...rows.entries()];
      if (round % 2 === 1) order.reverse();
      for (const [i, r] of order) {
        const answered0 = await answeredSoFar(r);
        const before = sample(r);
        const res = await fixedRate(r.url, rate, roundS, agent, r.headers);
        const after = sample(r);
        const a = acc[i] as (typeof acc)[0];
        a.cpu = a.cpu.map((s, k) => s + (after[k] as number) - (before[k] as number));
        a.sent += res.sent;
        a.answered += (await answeredSoFar(r)) - answered0;
        results[i]?.push(res);
        process.stderr.write(
          `round ${round + 1}/${rounds} ${r.name}: ${res.achievedRps.toFixed(0)} req/s, p50 ${percentile(res.latencies, 50).toFixed(3)} ms, p99 ${percentile(res.latencies, 99).toFixed(3)} ms, failed ${res.failed}, shed ${res.shed}\n`,
        );
      }
    }
    const summary = results.map((rs) => {
      const lat = rs.flatMap((r) => r.latencies);
      return {
        p50: percentile(lat, 50),
        p90: percentile(lat, 90),
        p99: percentile(lat, 99),
        rps: rs.reduce((n, r) => n + r.achievedRps, 0) / rs.length,
        failed: rs.reduce((n, r) => n + r.failed, 0),
        shed: rs.reduce((n, r) => n + r.shed, 0),
      };
    });

    // Fail-open during the fixed-rate rounds means the service did not keep up at this rate.
    const failOpenAfter = await failOpenStats();
    const failOpen = (prefix: string) =>
      failOpenAfter
        .filter(([k]) => k.startsWith(`http.${prefix}.ext_proc.`))
        .map(([k, v]) => [k.slice(`http.${prefix}.ext_proc.`.length), v - (failOpenBefore.get(k) ?? 0)] as const)
        .filter(([, v]) => v > 0);

    process.stderr.write(
      `max-rate phase: closed loop, ${num('connections')} connections, ${num('max-seconds')}s per row…\n`,
    );
    const maxRates: number[] = [];
    for (const r of rows) {
      const res = await runLoad(r.url, {
        connections: num('connections'),
        durationS: num('max-seconds'),
        headers: r.headers,
      });
      maxRates.push(
        res.non2xx + res.errors === 0 ? res.rps : res.rps * (1 - (res.non2xx + res.errors) / Math.max(1, res.requests)),
      );
    }

    const a = summary[0] as (typeof summary)[0];
    console.log(
      table([
        [
          'configuration',
          'achieved req/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'added p50',
          'added p99',
          'failed',
          'shed',
          'fail-open',
          'max req/s (closed loop)',
          'max ratio',
        ],
        ...rows.map((r, i) => {
          const s = summary[i] as (typeof summary)[0];
          const fo = failOpen(r.prefix).reduce((n, [k, v]) => (k === 'failure_mode_allowed' ? n + v : n), 0);
          return [
            r.name,
            s.rps.toFixed(0),
            s.p50.toFixed(3),
            s.p90.toFixed(3),
            s.p99.toFixed(3),
            i === 0 ? '-' : (s.p50 - a.p50).toFixed(3),
            i === 0 ? '-' : (s.p99 - a.p99).toFixed(3),
            String(s.failed),
            String(s.shed),
            i === 0 ? '-' : String(fo),
            (maxRates[i] ?? 0).toFixed(0),
            `${((maxRates[i] ?? 0) / (maxRates[0] ?? 1)).toFixed(3)}x`,
          ];
        }),
      ]),
    );

    console.log(
      `\nCPU per request during the fixed-rate rounds (µs), and the cores the row needs at ${rate} req/s` +
        ' (a row with fail-open understates its service: Envoy stopped sending it messages):',
    );
    console.log(
      table([
        [
          'configuration',
          'proxy Envoy',
          'upstream Envoy',
          'ext_proc service',
          'load gen + sink',
          'total',
          `cores at ${rate}/s`,
        ],
        ...rows.map((r, i) => {
          const { cpu, sent } = acc[i] as (typeof acc)[0];
          const us = cpu.map((s) => (s / Math.max(1, sent)) * 1e6);
          const total = us.reduce((x, y) => x + y, 0);
          return [
            r.name,
            ...us.map((u, k) => (k === 2 && r.servicePid === undefined ? '-' : u.toFixed(0))),
            total.toFixed(0),
            ((total * rate) / 1e6).toFixed(2),
          ];
        }),
      ]),
    );

    // The target is stated for the meshtrace row (B); C and the floor are context.
    for (const i of [2, 3, 1]) {
      const r = rows[i] as Row;
      const b = summary[i] as (typeof summary)[0];
      const fo = failOpen(r.prefix);
      // Percentile differences only mean something when both rows actually ran at the rate.
      const kept = a.shed + b.shed + a.failed + b.failed === 0 && fo.length === 0;
      const verdict = !kept
        ? `NOT met: the rate was not sustained (shed ${a.shed}/${b.shed}, failed ${a.failed}/${b.failed}, Envoy fail-open ${fo.length ? JSON.stringify(fo) : 'none'}) — retry with a lower --rate`
        : b.p99 - a.p99 <= TARGET_ADDED_P99_MS
          ? 'met'
          : 'NOT met';
      console.log(
        `added by ${r.name} at ${rate} req/s: p50 ${(b.p50 - a.p50).toFixed(3)} ms, p90 ${(b.p90 - a.p90).toFixed(3)} ms, p99 ${(b.p99 - a.p99).toFixed(3)} ms (target p99 ≤ ${TARGET_ADDED_P99_MS} ms: ${verdict})`,
      );
    }
    const prom = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const pick = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(prom)?.[1] ?? Number.NaN);
    const n = pick('meshtrace_ext_process_message_latency_ms_count');
    console.log(
      `meshtrace service: ${pick('meshtrace_ext_streams_total')} streams, ${n} messages, mean in-service time ${(pick('meshtrace_ext_process_message_latency_ms_sum') / n).toFixed(3)} ms/message, jwt verified ${pick('meshtrace_ext_jwt_verified_total')}, spans exported ${pick('meshtrace_ext_spans_exported_total')}, dropped ${pick('meshtrace_ext_spans_dropped_queue_full_total')}, OTLP bytes ${otlpBytes}`,
    );
    for (const i of [1, 2, 3]) {
      const { cpu, sent, answered } = acc[i] as (typeof acc)[0];
      const us = ((cpu[2] as number) / Math.max(1, sent)) * 1e6;
      const perStream = ((cpu[2] as number) / Math.max(1, answered / 2)) * 1e6;
      console.log(
        `service CPU, ${(rows[i] as Row).name}: ${us.toFixed(0)} µs per request sent, ${perStream.toFixed(0)} µs per stream answered in time (${answered} of ${2 * sent} messages) → at most ~${(1e6 / perStream).toFixed(0)} req/s per dedicated core`,
      );
    }
    console.log(`machine load average (1 min) at the end: ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`);
    return 0;
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench:ext-proc: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
