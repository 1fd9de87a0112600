// `meshtrace config`: outputs parse, files land in -o, the WasmPlugin carries the built
// filter's sha256, bootstraps pass Envoy's validation before printing, and mistakes exit
// non-zero with one line naming what is wrong. Two cases run the real CLI as a child process
// (exit codes, streams); the rest call the command's run() in this process with stdout/stderr
// captured — same code path after argument dispatch, a fraction of the start-up cost.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { parse, parseAllDocuments } from 'yaml';
import { run } from '../../cli/commands/config.ts';

function meshtrace(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import=tsx', 'cli/main.ts', 'config', ...args],
      { timeout: 60000 },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const EXAMPLE = 'examples/meshtrace.yaml';

/** Serialises in-process runs: they swap the process-wide stdout/stderr writers. */
let queue: Promise<unknown> = Promise.resolve();
function inProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const job = queue.then(async () => {
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    const origLog = console.log;
    const origError = console.error;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      stdout += chunk.toString();
      return true;
    }) as typeof process.stdout.write;
    console.log = (...a: unknown[]) => {
      stdout += `${a.join(' ')}\n`;
    };
    console.error = (...a: unknown[]) => {
      stderr += `${a.join(' ')}\n`;
    };
    try {
      const code = await run(args);
      return { code, stdout, stderr };
    } finally {
      process.stdout.write = out;
      process.stderr.write = errWrite;
      console.log = origLog;
      console.error = origError;
    }
  });
  queue = job.catch(() => undefined);
  return job;
}

test('telemetry prints one valid Telemetry document', async (t) => {
  const r = await inProcess('telemetry', '-f', EXAMPLE);
  t.is(r.code, 0, r.stderr);
  const doc = parse(r.stdout) as { kind: string; spec: { tracing: { randomSamplingPercentage: number }[] } };
  t.is(doc.kind, 'Telemetry');
  t.is(doc.spec.tracing[0]?.randomSamplingPercentage, 0);
});

test('istio -o writes one file per resource; WasmPlugins carry the built filter sha256', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'meshtrace-config-'));
  const r = await meshtrace('istio', '-f', EXAMPLE, '-o', out);
  t.is(r.code, 0, r.stderr);
  const files = readdirSync(out).sort();
  t.is(files.length, 11, files.join(', '));
  const wasmSha = createHash('sha256')
    .update(readFileSync(resolve('wasm-filters/build/meshtrace-filter.wasm')))
    .digest('hex');
  const plugin = parse(readFileSync(join(out, 'wasmplugin-meshtrace-storefront-inbound.yaml'), 'utf8')) as {
    spec: { sha256: string; pluginConfig: { service_name: string; direction: string } };
  };
  t.is(plugin.spec.sha256, wasmSha);
  t.deepEqual([plugin.spec.pluginConfig.service_name, plugin.spec.pluginConfig.direction], ['storefront', 'inbound']);
});

test('wasmplugin to stdout is a multi-document stream', async (t) => {
  const r = await inProcess('wasmplugin', '-f', EXAMPLE);
  t.is(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string });
  t.is(docs.length, 6);
  t.true(docs.every((d) => d.kind === 'WasmPlugin'));
});

test('bootstrap --role lb is validated by Envoy and printed', async (t) => {
  const r = await inProcess('bootstrap', '--role', 'lb', '-f', EXAMPLE);
  t.is(r.code, 0, r.stderr);
  const b = parse(r.stdout) as { static_resources: { clusters: { name: string }[] } };
  t.is(b.static_resources.clusters[0]?.name, 'backend');
});

test('bootstrap --role sidecar needs --service', async (t) => {
  const r = await inProcess('bootstrap', '--role', 'sidecar', '-f', EXAMPLE);
  t.is(r.code, 2);
  t.is(r.stderr.trim(), 'meshtrace config: --role sidecar needs --service NAME (a name from services)');
});

test('a bad meshtrace.yaml exits 1 with one line naming the field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-config-'));
  const file = join(dir, 'meshtrace.yaml');
  writeFileSync(
    file,
    'version: 1\nsampling:\n  rules:\n    - {action: always}\n    - {action: never}\n    - {action: rate, rate: 2}\n',
  );
  const r = await meshtrace('telemetry', '-f', file);
  t.is(r.code, 1);
  t.is(r.stderr.trim(), 'meshtrace.yaml: sampling.rules[2].rate: must be ≤ 1');
  t.is(r.stdout, '', 'nothing half-generated on stdout');
});

test('envoyfilter without an ext_proc section says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrace-config-'));
  const file = join(dir, 'meshtrace.yaml');
  writeFileSync(file, 'version: 1\n');
  const r = await inProcess('envoyfilter', '-f', file);
  t.is(r.code, 2);
  t.regex(r.stderr, /has no ext_proc section/);
});

test('an unknown target shows the usage', async (t) => {
  const r = await inProcess('gateway', '-f', EXAMPLE);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown target 'gateway'[\s\S]*usage: meshtrace config <target>/);
});
