// Golden files of every generated resource and bootstrap (test/mesh-config/golden/). A change
// in generated output must show up as a reviewed diff: regenerate with
//   UPDATE_GOLDEN=1 npx ava test/mesh-config/golden.test.ts
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import { bootstrapArtefacts, enablementArtefacts, FIXTURES, istioArtefacts } from './generate.ts';

const GOLDEN = 'test/mesh-config/golden';
const update = process.env.UPDATE_GOLDEN === '1';

const all = new Map<string, unknown>();
for (const fixture of Object.keys(FIXTURES) as (keyof typeof FIXTURES)[]) {
  for (const [k, v] of istioArtefacts(fixture)) all.set(k, v);
  for (const [k, v] of enablementArtefacts(fixture)) all.set(k, v);
  for (const [k, v] of bootstrapArtefacts(fixture)) all.set(k, v);
}

for (const [name, value] of all) {
  test(`golden: ${name}`, (t) => {
    const file = join(GOLDEN, `${name}.yaml`);
    const text = stringify(value, { lineWidth: 0 });
    if (update) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    t.true(existsSync(file), `${file} missing — run with UPDATE_GOLDEN=1 and review the new file`);
    t.is(text, readFileSync(file, 'utf8'), `${name} differs from ${file}`);
  });
}

test('no stale golden files (every file is still generated)', (t) => {
  const stale: string[] = [];
  for (const fixture of Object.keys(FIXTURES)) {
    const dir = join(GOLDEN, fixture);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir))
      if (!all.has(`${fixture}/${f.replace(/\.yaml$/, '')}`)) stale.push(`${fixture}/${f}`);
  }
  t.deepEqual(stale, []);
});

test('the set covers every generator', (t) => {
  const kinds = new Set([...all.keys()].map((k) => k.split('/')[1]?.split('-')[0]));
  t.deepEqual([...kinds].sort(), [
    'bootstrap',
    'destinationrule',
    'envoyfilter',
    'istiooperator',
    'namespace',
    'patch',
    'serviceentry',
    'telemetry',
    'wasmplugin',
  ]);
  for (const role of ['gateway', 'lb', 'sidecar-storefront']) t.true(all.has(`example/bootstrap-${role}`), role);
});
