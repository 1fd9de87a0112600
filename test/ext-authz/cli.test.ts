// The commands as an operator runs them: bad config → exit 2 naming the field; SIGTERM → drain
// and exit 0.
import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../../core/envoy-binary.ts';
import { startProcess } from '../support/process.ts';
import { startServiceProcess, writeConfig } from './support/service.ts';

const run = (args: string[]) =>
  startProcess(undefined, process.execPath, ['--import=tsx', join(repoRoot, 'cli/main.ts'), ...args], {
    cwd: repoRoot,
  });

test('meshtrace ext-proc with an invalid config exits 2 and names the file and field', async (t) => {
  const file = writeConfig({ listen: { port: 0 }, enrich: { headers: ['x-ok', 'Cookie'] } });
  const p = run(['ext-proc', '--config', file]);
  t.is(await p.exited, 2);
  t.regex(
    p.output(),
    new RegExp(`${file.replaceAll('/', '\\/')}: enrich\\.headers\\[1\\]: "Cookie" carries credentials`),
  );
});

test('meshtrace ext-authz without --config exits 2 with usage', async (t) => {
  const p = run(['ext-authz']);
  t.is(await p.exited, 2);
  t.regex(p.output(), /--config <file\.yaml> is required/);
});

test('meshtrace ext-proc drains and exits 0 on SIGTERM, logging JSON lines', async (t) => {
  const svc = await startServiceProcess(
    t,
    'ext-proc',
    writeConfig({ listen: { port: 0 }, shutdown: { drainMs: 1000 } }),
  );
  await svc.process.stop('SIGTERM');
  t.is(await svc.process.exited, 0, svc.output());
  const lines = svc
    .output()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string });
  t.deepEqual(
    lines.map((l) => l.msg),
    ['meshtrace ext service listening', 'ready', 'draining', 'stopped'],
  );
});
