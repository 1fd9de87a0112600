// `meshtrace ui` as a user runs it: a child process with its OTLP receiver and UI on free
// ports; spans sent over OTLP/HTTP are served by the Jaeger API and counted in /status; the
// UI page loads; SIGTERM stops it cleanly. Bad arguments exit 2 naming the argument.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { defaultWorkloadOptions, generateWorkload } from '../../analysis/generate/workload.ts';
import { type JaegerTrace, OtlpForwarder } from '../../visualization/index.ts';
import { freePorts } from '../support/ports.ts';
import { startProcess, waitFor } from '../support/process.ts';

const CLI = ['--import=tsx', join(process.cwd(), 'cli', 'main.ts'), 'ui'];

test('meshtrace ui receives OTLP, serves the Jaeger API and the UI, and stops on SIGTERM', async (t) => {
  t.timeout(60_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'meshtrace-ui-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const [port, otlp] = (await freePorts(2)) as [number, number];
  const proc = startProcess(t, process.execPath, [
    ...CLI,
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--otlp-http-port',
    String(otlp),
    '--otlp-grpc-port',
    'off',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'meshtrace ui',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(proc.output());
      return (await fetch(`${url}/api/services`)).ok;
    },
    30_000,
    100,
  );
  t.regex(proc.output(), new RegExp(`OTLP/HTTP on http://127.0.0.1:${otlp}/v1/traces`));

  const w = generateWorkload(defaultWorkloadOptions(5, 2));
  const fwd = new OtlpForwarder({ endpoint: `http://127.0.0.1:${otlp}/v1/traces` });
  fwd.offer(w.spans);
  await fwd.flush();
  t.is(fwd.stats().sentSpans, w.spans.length);
  const id = w.spans[0]!.traceId;
  const trace = await waitFor(`trace ${id}`, async () => {
    const res = await fetch(`${url}/api/traces/${id}`);
    return res.ok ? ((await res.json()) as { data: JaegerTrace[] }).data[0] : null;
  });
  t.is(trace.spans.length, w.spans.filter((s) => s.traceId === id).length);
  const status = (await (await fetch(`${url}/api/meshtrace/status`)).json()) as {
    data: { store: { spans: number }; collector: { spansAccepted: number; forwarder: unknown } };
  };
  t.is(status.data.store.spans, w.spans.length);
  t.is(status.data.collector.spansAccepted, w.spans.length);
  t.is(status.data.collector.forwarder, null);
  const page = await (await fetch(`${url}/`)).text();
  t.regex(page, /<script type="module" src="\/ui\/app.js">/);
  const js = await fetch(`${url}/ui/app.js`);
  t.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.regex(await js.text(), /api\/meshtrace\/status/);

  await proc.stop('SIGTERM');
  t.is(await proc.exited, 0, proc.output());
});

const run = promisify(execFile);
const BAD: Array<{ name: string; args: string[]; error: RegExp }> = [
  { name: 'missing --data-dir', args: [], error: /--data-dir is required/ },
  { name: 'port not a number', args: ['--data-dir', '/tmp/x', '--port', 'web'], error: /--port: "web" is not a port/ },
  { name: 'port out of range', args: ['--data-dir', '/tmp/x', '--port', '70000'], error: /--port: "70000"/ },
  { name: 'bad OTLP port', args: ['--data-dir', '/tmp/x', '--otlp-http-port', 'x'], error: /--otlp-http-port/ },
  {
    name: 'export URL not http',
    args: ['--data-dir', '/tmp/x', '--export-otlp', 'ftp://h/'],
    error: /must be http\(s\)/,
  },
  { name: 'unknown option', args: ['--data-dir', '/tmp/x', '--colour'], error: /Unknown option '--colour'/ },
];
for (const c of BAD) {
  test(`meshtrace ui refuses: ${c.name}`, async (t) => {
    const err = await t.throwsAsync(run(process.execPath, [...CLI, ...c.args]));
    const e = err as Error & { code?: number; stderr?: string };
    t.is(e.code, 2, c.name);
    t.regex(e.stderr ?? '', c.error, c.name);
  });
}
