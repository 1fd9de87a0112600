// `meshtrace up` end to end: the local mesh starts (real Envoy gateway + sidecars with the
// meshtrace filter, Node/Python/Go services, redis-server, ext_proc, collector), serves a
// request through all three services and Redis, puts spans into the collector, whose web UI and
// Jaeger query API list them — and both
// `meshtrace down` and Ctrl-C leave no process behind. "Behind" is checked over every process
// on the machine: each one `up` starts inherits MESHTRACE_STATE_DIR=<this test's dir>.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { JaegerTrace } from '../../visualization/index.ts';
import { freePort } from '../support/ports.ts';

interface State {
  supervisor: number;
  children: { name: string; pid: number }[];
  urls: Record<string, string>;
}

/** Pids of every process whose environment carries this state dir. */
function processesOf(stateDir: string): number[] {
  const marker = `MESHTRACE_STATE_DIR=${stateDir}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) out.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

async function startUp(t: ExecutionContext) {
  const stateDir = mkdtempSync(join(tmpdir(), 'meshtrace-up-'));
  const port = await freePort();
  const env = { ...process.env, MESHTRACE_STATE_DIR: stateDir };
  const child = spawn(
    process.execPath,
    ['--import=tsx', 'cli/main.ts', 'up', '--requests', '4', '--port', String(port)],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Safety net if an assertion fails midway: stop whatever this test's `up` left running.
  t.teardown(async () => {
    for (const pid of processesOf(stateDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  // A fresh machine compiles the Go sample once (minutes on a busy 2-core box); later runs are cached.
  const deadline = Date.now() + 280000;
  while (!output.includes('running. Ctrl-C') && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.true(output.includes('running. Ctrl-C'), output);
  const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as State;
  return { stateDir, env, child, exited, state, output: () => output };
}

async function assertServes(t: ExecutionContext, state: State, output: string) {
  const res = await fetch(state.urls.gateway as string);
  t.is(res.status, 200, output);
  const body = (await res.json()) as { lang: string; stock: { lang: string; price: { lang: string; views: string } } };
  t.is(body.lang, 'node');
  t.is(body.stock.lang, 'python');
  t.is(body.stock.price.lang, 'go');
  t.regex(body.stock.price.views, /^\d+$/, 'pricing reached Redis through its sidecar');
  t.regex(output, /requests: 4× 200/);
  // The collector child serves the web UI and the Jaeger query API over its own store.
  t.regex(output, /ui +http:\/\/127\.0\.0\.1:\d+\//, 'the summary prints the UI URL');
  t.regex(output, /jaeger_api +http:\/\/127\.0\.0\.1:\d+\/api/, 'the summary prints the Jaeger API URL');
  const jaeger = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${state.urls.jaeger_api}${path}`);
    t.is(r.status, 200, `${path}: ${r.status}`);
    return ((await r.json()) as { data: T }).data;
  };
  const services = await jaeger<string[]>('/services');
  // ext_proc's edge span, and the filter's own spans from the gateway and each sidecar
  // (exported over OTLP/HTTP through each Envoy's meshtrace_collector cluster).
  for (const name of ['meshtrace-edge', 'gateway', 'storefront', 'inventory', 'pricing'])
    t.true(services.includes(name), `${name} in /api/services: ${services.join(',')}`);
  const summary = /collector: \d+ spans in \d+ traces from (.*)/.exec(output)?.[1] ?? '';
  for (const name of ['storefront', 'inventory', 'pricing'])
    t.true(summary.split(', ').includes(name), `the summary names the ${name} sidecar's spans: ${summary}`);
  const status = await jaeger<{ store: { spans: number } }>('/meshtrace/status');
  t.true(status.store.spans >= 4, `spans in the collector: ${status.store.spans}`);
  for (const service of services) {
    const traces = await jaeger<JaegerTrace[]>(`/traces?service=${encodeURIComponent(service)}&limit=50`);
    t.true(traces.length > 0, `traces of ${service}`);
    for (const tr of traces) {
      t.regex(tr.traceID, /^[0-9a-f]{32}$/);
      const own = tr.spans.filter((sp) => tr.processes[sp.processID]?.serviceName === service);
      t.true(own.length > 0, `trace ${tr.traceID} found for ${service} holds a span of ${service}`);
      for (const sp of tr.spans) {
        t.is(sp.traceID, tr.traceID);
        t.true(sp.duration >= 0 && sp.startTime > 0, `span ${sp.spanID} has times`);
      }
    }
  }
  const edge = await jaeger<JaegerTrace[]>('/traces?service=meshtrace-edge&limit=50');
  t.true(edge.length >= 4, `one edge trace per request at least: ${edge.length}`);
  const one = await jaeger<JaegerTrace[]>(`/traces/${edge[0]?.traceID}`);
  t.is(one[0]?.traceID, edge[0]?.traceID, 'a listed trace is fetched by id');
  const page = await fetch(state.urls.ui as string);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  t.regex(html, /<script[^>]+src="\/?ui\/app\.js"/, 'the index page loads the UI bundle');
  const js = await fetch(new URL('/ui/app.js', state.urls.ui as string));
  t.is(js.status, 200, 'the UI bundle is served');
  const m = /logs ↔ traces: (\d+)\/(\d+) collector traces through the edge/.exec(output);
  t.truthy(m, output);
  t.true(Number(m?.[2]) >= 4, 'one trace per request at least');
  t.is(m?.[1], m?.[2], 'every stored trace is findable from the gateway access log');
  // The proxies carry context hop to hop; the services drop it and their sidecars link it back.
  t.regex(output, /storefront-inbound +4 requests, +4 traces +continues 4\/4/);
  t.regex(output, /storefront-outbound +4 requests, +4 traces +continues 4\/4/);
  t.regex(output, /inventory-outbound +4 requests, +4 traces +continues 4\/4/);
  t.regex(output, /pricing-inbound +4 requests, +4 traces +continues 4\/4/);
  // So each request is one trace from the edge through all three services (each sidecar
  // exports on its own 1 s tick: a trace can still be filling when the summary is printed).
  for (const tr of edge.slice(0, 4)) {
    const want = ['gateway', 'storefront', 'inventory', 'pricing'];
    let names = new Set<string | undefined>();
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      const r = await fetch(`${state.urls.jaeger_api}/traces/${tr.traceID}`);
      const [whole] = ((await r.json()) as { data: JaegerTrace[] }).data;
      names = new Set((whole?.spans ?? []).map((sp) => whole?.processes[sp.processID]?.serviceName));
      if (want.every((s) => names.has(s))) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    for (const s of want) t.true(names.has(s), `trace ${tr.traceID} holds ${s}: ${[...names].join(',')}`);
  }
  t.regex(output, /pricing-outbound-tcp +\d+ requests/);
  const p = /logs ↔ spans: (\d+)\/(\d+) traces/.exec(output);
  t.truthy(p, output);
  t.is(p?.[1], p?.[2], "the access log's span id is the parent of the edge span");
  const names = state.children.map((c) => c.name).sort();
  t.deepEqual(names, [
    'collector',
    'ext-proc',
    'gateway',
    'inventory',
    'pricing',
    'redis',
    'sidecar-inventory',
    'sidecar-pricing',
    'sidecar-storefront',
    'storefront',
  ]);
}

test.serial('meshtrace up serves traffic through the mesh; meshtrace down leaves no process behind', async (t) => {
  t.timeout(360000);
  const up = await startUp(t);
  await assertServes(t, up.state, up.output());
  t.true(processesOf(up.stateDir).length >= 10, 'every part is running');

  const run = (cmd: string) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, ['--import=tsx', 'cli/main.ts', cmd], { env: up.env }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
  const second = await run('up');
  t.is(second.code, 1, 'a second up on the same state refuses');
  t.regex(second.out, /already running \(pid \d+\); run `meshtrace down` first/);

  const downOut = await run('down');
  t.is(downOut.code, 0, downOut.out);
  t.is(await up.exited, 0, 'meshtrace up exits cleanly when told to stop');
  t.deepEqual(processesOf(up.stateDir), [], 'no process left behind');
  t.false(existsSync(join(up.stateDir, 'state.json')), 'state cleared');
  const again = await run('down');
  t.is(again.code, 0);
  t.regex(again.out, /no local mesh is running/);
});

test.serial('Ctrl-C on meshtrace up stops everything', async (t) => {
  t.timeout(360000);
  const up = await startUp(t);
  t.is((await fetch(up.state.urls.gateway as string)).status, 200);
  process.kill(up.state.supervisor, 'SIGINT');
  t.is(await up.exited, 0, up.output());
  t.deepEqual(processesOf(up.stateDir), [], 'no process left behind');
  t.false(existsSync(join(up.stateDir, 'state.json')));
  t.regex(up.output(), /meshtrace: stopped/);
});
