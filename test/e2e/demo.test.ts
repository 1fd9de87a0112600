// `npm run demo` (the single-Envoy demo) end to end: the demo command runs as a child process, starts real Envoy with the
// built filter in front of a sample service, prints what each request carried, and leaves no
// Envoy behind — on a normal exit and on Ctrl-C. Fails (never skips) without Envoy or the .wasm.
import test from 'ava';
import { join } from 'node:path';
import { repoRoot } from '../../core/envoy-binary.ts';
import { startProcess, waitFor } from '../support/process.ts';

const runDemo = (t: Parameters<typeof startProcess>[0], args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  startProcess(t, process.execPath, ['--import=tsx', join(repoRoot, 'cli', 'main.ts'), 'demo', ...args], {
    cwd: repoRoot,
    env,
  });

function envoyPid(output: string): number {
  const m = /envoy pid (\d+)/.exec(output);
  if (!m?.[1]) throw new Error(`no envoy pid in demo output:\n${output}`);
  return Number(m[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The lines under "N. title" up to the next blank line. */
function section(output: string, n: number): string {
  const start = output.indexOf(`\n${n}. `);
  if (start < 0) throw new Error(`no section ${n} in:\n${output}`);
  const end = output.indexOf('\n\n', start + 1);
  return output.slice(start, end < 0 ? undefined : end);
}

const TRACEPARENT = /traceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const TRACERESPONSE = /traceresponse: 00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;

test('demo: five requests come out traced, and Envoy is gone afterwards', async (t) => {
  const demo = runDemo(t);
  const code = await demo.exited;
  const out = demo.output();
  t.is(code, 0, out);
  t.regex(out, /\[1\/3\] sample service listening on 127\.0\.0\.1:\d+/);
  t.regex(out, /\[2\/3\] starting Envoy with .*meshtrace-filter\.wasm .*ready on 127\.0\.0\.1:\d+/);

  const none = section(out, 1);
  t.regex(none, /HTTP 200/);
  t.regex(none, /client sent\s+\(no trace headers\)/);
  const started = TRACEPARENT.exec(none);
  t.truthy(started, none);
  t.not(started?.[1], '0'.repeat(32));
  t.is(TRACERESPONSE.exec(none)?.[1], started?.[1], 'traceresponse names the trace the service saw');

  const w3c = section(out, 2);
  const fwd = TRACEPARENT.exec(w3c.slice(w3c.indexOf('service received')));
  t.is(fwd?.[1], '4bf92f3577b34da6a3ce929d0e0e4736', 'trace id continued');
  t.not(fwd?.[2], '00f067aa0ba902b7', 'the proxy inserted its own span id');
  t.regex(w3c, /service received[\s\S]*tracestate: vendor=opaque/);

  const b3 = section(out, 3);
  t.is(TRACEPARENT.exec(b3.slice(b3.indexOf('service received')))?.[1], '80f198ee56343ba864fe8b2a57d3eff7');
  const multi = section(out, 4);
  t.is(TRACEPARENT.exec(multi.slice(multi.indexOf('service received')))?.[1], '463ac35c9f6413ad48485a3953bb6124');
  const jaeger = section(out, 5);
  t.is(TRACEPARENT.exec(jaeger.slice(jaeger.indexOf('service received')))?.[1], '6e0c63257de34c92bf9efcd03927272e');

  t.regex(out, /the filter's counters in Envoy \(admin \/stats\):\n(.*\n)*\s+wasmcustom\.meshtrace\.requests: 5\n/);
  t.regex(out, /wasmcustom\.meshtrace\.traces_started: 1\n/);
  t.regex(out, /wasmcustom\.meshtrace\.contexts_continued: 4\n/);
  t.notRegex(out, /vm_reload/, 'only the counters the plugin defined');
  t.regex(out, /stopped Envoy and the sample service/);
  t.false(alive(envoyPid(out)), 'no envoy process left behind');
});

test('Ctrl-C while serving stops Envoy and the service', async (t) => {
  const demo = runDemo(t, ['--serve']);
  await waitFor('the demo to serve', () => demo.output().includes('press Ctrl-C'), 45000);
  const pid = envoyPid(demo.output());
  t.true(alive(pid));
  process.kill(demo.child.pid as number, 'SIGINT'); // the demo only, not its process group
  const code = await demo.exited;
  t.is(code, 130, demo.output());
  t.regex(demo.output(), /SIGINT: stopping Envoy/);
  t.false(alive(pid), 'no envoy process left behind');
});

test('without Envoy installed the demo names `npm run setup`', async (t) => {
  const demo = runDemo(t, [], { MESHTRACE_ENVOY: '/nonexistent/envoy' });
  t.is(await demo.exited, 1, demo.output());
  t.regex(demo.output(), /Envoy 1\.40\.0 not found at \/nonexistent\/envoy\. Run `npm run setup`/);
});

test('without the built filter the demo names `npm run setup`', async (t) => {
  const demo = runDemo(t, ['--wasm', '/nonexistent/meshtrace-filter.wasm']);
  t.is(await demo.exited, 1, demo.output());
  t.regex(demo.output(), /\/nonexistent\/meshtrace-filter\.wasm is missing\. Run `npm run setup`/);
});
