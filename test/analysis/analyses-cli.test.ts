// `meshtrace generate` and `meshtrace analyze` as a user runs them: real processes, real files,
// and the collector's real DuckDB store behind the same input interface.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openDuckDBStore } from '../../analysis/store/duckdb-store.ts';
import { startProcess, waitFor } from '../support/process.ts';
import { startUpstream } from '../support/upstream.ts';

const repo = join(import.meta.dirname, '..', '..');

async function meshtrace(t: { teardown(fn: () => void | Promise<void>): void }, ...args: string[]) {
  const p = startProcess(t, process.execPath, ['--import=tsx', join(repo, 'cli', 'main.ts'), ...args], { cwd: repo });
  const stdout: string[] = [];
  p.child.stdout?.on('data', (c: Buffer) => stdout.push(c.toString('utf8')));
  const code = await p.exited;
  return { code, stdout: stdout.join(''), output: p.output() };
}

const dir = mkdtempSync(join(tmpdir(), 'meshtrace-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let generated: Promise<{ code: number | null; output: string }> | undefined;
const generateOnce = (t: { teardown(fn: () => void | Promise<void>): void }) => {
  generated ??= meshtrace(t, 'generate', '--out', join(dir, 'gen'), '--traces', '800', '--seed', '11');
  return generated;
};

test.serial('meshtrace generate writes spans and ground truth', async (t) => {
  const r = await generateOnce(t);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /800 traces, \d+ spans → .*spans\.jsonl/);
  const truth = JSON.parse(readFileSync(join(dir, 'gen', 'ground-truth.json'), 'utf8'));
  t.is(truth.seed, 11);
  t.is(truth.traces, 800);
});

test.serial('meshtrace analyze bottlenecks --json ranks the injected bottleneck first', async (t) => {
  await generateOnce(t);
  const r = await meshtrace(t, 'analyze', 'bottlenecks', '--input', join(dir, 'gen'), '--json');
  t.is(r.code, 0, r.output);
  const truth = JSON.parse(readFileSync(join(dir, 'gen', 'ground-truth.json'), 'utf8'));
  const ranking = JSON.parse(r.stdout);
  t.deepEqual({ service: ranking[0].service, operation: ranking[0].operation }, truth.bottleneck);
});

test.serial('meshtrace analyze regressions prints a table with the regressed operation only', async (t) => {
  await generateOnce(t);
  const r = await meshtrace(
    t,
    'analyze',
    'regressions',
    '--input',
    join(dir, 'gen'),
    '--from-version',
    '1.4.0',
    '--to-version',
    '1.5.0',
  );
  t.is(r.code, 0, r.output);
  t.regex(r.stdout, /2 operations compared, 1 changed/);
  t.regex(r.stdout, /catalog\/search\s+slower/);
  t.notRegex(r.stdout, /catalog\/item/);
});

test.serial('meshtrace analyze reports unreadable records on stderr and analyses the rest', async (t) => {
  await generateOnce(t);
  const file = join(dir, 'damaged.jsonl');
  appendFileSync(file, readFileSync(join(dir, 'gen', 'spans.jsonl'), 'utf8'));
  appendFileSync(file, '{"traceId": "nope"}\n');
  const r = await meshtrace(t, 'analyze', 'error-rates', '--input', file);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /damaged\.jsonl:\d+: traceId must be 32 lowercase hex digits/);
  t.regex(r.stdout, /bank\s+800/);
});

test('meshtrace analyze rejects bad usage with exit code 2 and says what is wrong', async (t) => {
  const unknown = await meshtrace(t, 'analyze', 'nonsense', '--input', dir);
  t.is(unknown.code, 2);
  t.regex(unknown.output, /unknown analysis "nonsense"/);
  const noInput = await meshtrace(t, 'analyze', 'bottlenecks');
  t.is(noInput.code, 2);
  t.regex(noInput.output, /--input <dir\|file> or --store <data dir> is required/);
  const badGen = await meshtrace(t, 'generate', '--out', join(dir, 'x'), '--traces', 'many');
  t.is(badGen.code, 2);
  t.regex(badGen.output, /--traces must be an integer ≥ 0, got "many"/);
});

test.serial('meshtrace analyze reads the collector’s DuckDB store through the same interface', async (t) => {
  await generateOnce(t);
  const storeDir = join(dir, 'store');
  const store = await openDuckDBStore({ dataDir: storeDir });
  const lines = readFileSync(join(dir, 'gen', 'spans.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  await store.append(lines.map((l) => JSON.parse(l)));
  await store.close();
  const r = await meshtrace(t, 'analyze', 'error-origins', '--store', storeDir, '--json');
  t.is(r.code, 0, r.output);
  const truth = JSON.parse(readFileSync(join(dir, 'gen', 'ground-truth.json'), 'utf8'));
  const origins = JSON.parse(r.stdout) as Array<{ traceId: string; origin: { spanId: string } }>;
  const byTrace = new Map(origins.map((o) => [o.traceId, o.origin.spanId]));
  const right = truth.errors.filter(
    (e: { traceId: string; originSpanId: string }) => byTrace.get(e.traceId) === e.originSpanId,
  ).length;
  t.true(truth.errors.length > 0);
  t.is(right, truth.errors.length);
});

test.serial(
  'meshtrace analyze alerts evaluates the rules once at the end of the data and POSTs to the webhook',
  async (t) => {
    await generateOnce(t);
    const hook = await startUpstream(t);
    const rules = join(dir, 'alerts.yaml');
    writeFileSync(
      rules,
      `webhook: {url: "http://127.0.0.1:${hook.port}/hook"}
rules:
  - {name: bank-errors, kind: error_rate, service: bank, window: 5m, above: 0.03, minRequests: 50}
  - {name: auth-errors, kind: error_rate, service: auth, window: 5m, above: 0.5}
`,
    );
    const r = await meshtrace(t, 'analyze', 'alerts', '--input', join(dir, 'gen'), '--rules', rules);
    t.is(r.code, 0, r.output);
    t.regex(r.stdout, /bank-errors\s+FIRING\s+error rate of bank/);
    t.regex(r.stdout, /auth-errors\s+ok/);
    t.regex(r.stdout, /webhook: 1 delivered, 0 pending/);
    const sent = hook.received.map((q) => JSON.parse(q.body));
    t.deepEqual(
      sent.map((n) => [n.rule, n.state]),
      [['bank-errors', 'firing']],
    );
  },
);

test.serial('meshtrace analyze alerts --watch runs on the schedule until stopped', async (t) => {
  await generateOnce(t);
  const hook = await startUpstream(t);
  const rules = join(dir, 'watch.yaml');
  // The generated traffic is from 2026-01-01; against the wall clock there is none: absence fires.
  writeFileSync(
    rules,
    `evaluationInterval: 200ms\nwebhook: {url: "http://127.0.0.1:${hook.port}/hook"}\nrules:\n  - {name: email-silent, kind: absence, service: email, window: 1m}\n`,
  );
  const p = startProcess(
    t,
    process.execPath,
    [
      '--import=tsx',
      join(repo, 'cli', 'main.ts'),
      'analyze',
      'alerts',
      '--watch',
      '--input',
      join(dir, 'gen'),
      '--rules',
      rules,
    ],
    { cwd: repo },
  );
  await waitFor('firing notification', () => hook.received.find((q) => JSON.parse(q.body).state === 'firing'), 20_000);
  p.child.kill('SIGINT');
  t.is(await p.exited, 0, p.output());
  t.regex(p.output(), /stopped: 1 notifications delivered, 0 pending, 0 source errors/);
});

test('meshtrace generate --topology takes a user topology and names every problem in a bad one', async (t) => {
  const good = join(dir, 'topo.yaml');
  writeFileSync(
    good,
    `entry: web/GET /
services:
  web: {hosts: 1}
  db: {hosts: 1, clockSkewUs: [5000]}
operations:
  web/GET /: {selfUs: 1000, calls: [{to: db/query, mode: parallel, fanOut: 2}]}
  db/query: {selfUs: 3000}
`,
  );
  const r = await meshtrace(t, 'generate', '--out', join(dir, 'custom'), '--traces', '50', '--topology', good);
  t.is(r.code, 0, r.output);
  const lines = readFileSync(join(dir, 'custom', 'spans.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  t.is(lines.length, 50 * 5, 'root + 2 × (client + server)');
  t.deepEqual([...new Set(lines.map((l) => JSON.parse(l).service))].sort(), ['db', 'web']);

  const bad = join(dir, 'bad-topo.yaml');
  writeFileSync(
    bad,
    'entry: a/b\nservices: {a: {hosts: 0}}\noperations:\n  a/b: {selfUs: -1, calls: [{to: a/c, mode: later}]}\n',
  );
  const e = await meshtrace(t, 'generate', '--out', join(dir, 'bad'), '--topology', bad);
  t.is(e.code, 2);
  for (const problem of [
    'services["a"].hosts: must be an integer ≥ 1',
    'operations["a/b"].selfUs: must be a number ≥ 0',
    'operations["a/b"].calls[0]: operation "a/c" is not defined',
    'operations["a/b"].calls[0].mode: must be sequential, parallel or async',
  ]) {
    t.true(e.output.includes(problem), problem);
  }
});
