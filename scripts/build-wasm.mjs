// Builds the release (optimised) Proxy-Wasm filter, the codec probe used by the vector
// tests and the sampling probe (test/wasm/sampling-*.test.ts), then prints each .wasm's size. Options shared by both live in asconfig.json.
// Usage: node scripts/build-wasm.mjs            (npm run build:wasm)
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIZE_TARGET_KB = 30;

const builds = [
  { entry: 'wasm-filters/assembly/index.ts', target: 'release', out: 'wasm-filters/build/meshtrace-filter.wasm' },
  {
    entry: 'wasm-filters/assembly/codec-probe.ts',
    target: 'release',
    out: 'wasm-filters/build/codec-probe.wasm',
    extra: ['--textFile', 'wasm-filters/build/codec-probe.wat'],
  },
  {
    entry: 'wasm-filters/assembly/sampling/probe.ts',
    target: 'release',
    out: 'wasm-filters/build/sampling-probe.wasm',
    extra: ['--textFile', 'wasm-filters/build/sampling-probe.wat'],
  },
];

process.chdir(root);
let failed = false;
for (const b of builds) {
  const args = [b.entry, '--config', 'asconfig.json', '--target', b.target, '--outFile', b.out, ...(b.extra ?? [])];
  const { error, stderr } = await asc.main(args);
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`build-wasm: ${b.entry} failed: ${error.message}`);
    failed = true;
    continue;
  }
  const bytes = statSync(b.out).size;
  const kb = (bytes / 1024).toFixed(1);
  const note = b.out.endsWith('meshtrace-filter.wasm')
    ? ` (target <= ${SIZE_TARGET_KB} KB: ${bytes <= SIZE_TARGET_KB * 1024 ? 'met' : 'not met'})`
    : '';
  console.log(`build-wasm: ${b.out} ${bytes} bytes = ${kb} KB${note}`);
}
process.exit(failed ? 1 : 0);
