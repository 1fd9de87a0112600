// Runs every case of the shared vector file (test/vectors/trace-context.json) against the
// AssemblyScript codec, through the built codec probe (wasm-filters/assembly/codec-probe.ts).
// One ava test per case, named after it. Fails — never skips — when the .wasm is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const probeFile = join(root, 'wasm-filters', 'build', 'codec-probe.wasm');
const vectorFile = join(root, 'test', 'vectors', 'trace-context.json');

type Pair = [string, string];
interface ExtractCase {
  name: string;
  formats?: string[];
  headers: Pair[];
  expect: Record<string, unknown> & { valid: boolean; reasons: string[] };
}
interface InjectCase {
  name: string;
  context: Record<string, unknown>;
  formats: string[];
  headers: Pair[];
}
interface TranslateCase {
  name: string;
  headers: Pair[];
  spanId: string;
  formats: string[];
  headers_out: Pair[] | null;
}
interface Vectors {
  extract: ExtractCase[];
  inject: InjectCase[];
  translate: TranslateCase[];
}

const vectors = JSON.parse(readFileSync(vectorFile, 'utf8')) as Vectors;

interface ProbeExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  run(op: number, ptr: number, len: number): number;
  output(): number;
  _initialize(): void;
}

let probe: ProbeExports | undefined;
let lastLog = '';
function loadProbe(): ProbeExports {
  if (probe) return probe;
  if (!existsSync(probeFile)) {
    throw new Error(`${probeFile} is missing: run \`npm run build:wasm\` first`);
  }
  const module = new WebAssembly.Module(readFileSync(probeFile));
  // The only import is proxy_log, which the abort handler uses to say why it trapped.
  let memory: WebAssembly.Memory | undefined;
  const proxy_log = (_level: number, ptr: number, len: number) => {
    const text = memory ? Buffer.from(new Uint8Array(memory.buffer, ptr, len)).toString('utf8') : '';
    lastLog = text;
    return 0;
  };
  const instance = new WebAssembly.Instance(module, { env: { proxy_log } });
  probe = instance.exports as unknown as ProbeExports;
  memory = probe.memory;
  probe._initialize();
  return probe;
}

const OP = { extract: 1, inject: 2, translate: 3 } as const;

function call(op: number, input: unknown): Record<string, unknown> {
  const p = loadProbe();
  const bytes = Buffer.from(JSON.stringify(input), 'utf8');
  const ptr = p.alloc(bytes.length);
  new Uint8Array(p.memory.buffer, ptr, bytes.length).set(bytes);
  let len: number;
  try {
    len = p.run(op, ptr, bytes.length);
  } catch (err) {
    throw new Error(`codec trapped: ${lastLog || String(err)}`);
  }
  const out = Buffer.from(new Uint8Array(p.memory.buffer, p.output(), len)).toString('utf8');
  const parsed = JSON.parse(out) as Record<string, unknown>;
  if ('error' in parsed) throw new Error(`probe refused the case: ${String(parsed['error'])}`);
  return parsed;
}

const sortPairs = (pairs: Pair[]) => [...pairs].sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));

test('the vector file has cases of every kind', (t) => {
  t.true(vectors.extract.length > 0 && vectors.inject.length > 0 && vectors.translate.length > 0);
});

for (const c of vectors.extract) {
  test(`extract: ${c.name}`, (t) => {
    const got = call(OP.extract, c);
    if (!c.expect.valid) {
      t.deepEqual(
        { valid: got['valid'], reasons: got['reasons'] },
        { valid: false, reasons: c.expect.reasons },
        c.name,
      );
      return;
    }
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys(c.expect)) picked[key] = got[key];
    t.deepEqual(picked, c.expect, c.name);
  });
}

for (const c of vectors.inject) {
  test(`inject: ${c.name}`, (t) => {
    const got = call(OP.inject, c)['headers'] as Pair[];
    t.deepEqual(sortPairs(got), sortPairs(c.headers), c.name);
  });
}

for (const c of vectors.translate) {
  test(`translate: ${c.name}`, (t) => {
    const got = call(OP.translate, c)['headers_out'] as Pair[] | null;
    if (c.headers_out === null) t.is(got, null, c.name);
    else t.deepEqual(sortPairs(got ?? []), sortPairs(c.headers_out), c.name);
  });
}

test('the probe frees its input: memory stays flat over many calls', (t) => {
  const p = loadProbe();
  const c = vectors.extract[0];
  for (let i = 0; i < 200; i++) call(OP.extract, c);
  const pages = p.memory.buffer.byteLength;
  for (let i = 0; i < 5000; i++) call(OP.extract, c);
  t.is(p.memory.buffer.byteLength, pages);
});
