// Loads the built sampling probe (wasm-filters/assembly/sampling/probe.ts) for the
// sampling-*.test.ts files: JSON in, JSON out. Fails — never skips — when the .wasm is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const probeFile = join(root, 'wasm-filters', 'build', 'sampling-probe.wasm');

interface ProbeExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  run(op: number, ptr: number, len: number): number;
  output(): number;
  _initialize(): void;
}

export const OP = { decide: 1, hash: 2, regex: 3, config: 4 } as const;

let probe: ProbeExports | undefined;
let lastLog = '';

function load(): ProbeExports {
  if (probe) return probe;
  if (!existsSync(probeFile)) throw new Error(`${probeFile} is missing: run \`npm run build:wasm\` first`);
  let memory: WebAssembly.Memory | undefined;
  const proxy_log = (_level: number, ptr: number, len: number) => {
    lastLog = memory ? Buffer.from(new Uint8Array(memory.buffer, ptr, len)).toString('utf8') : '';
    return 0;
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(probeFile)), { env: { proxy_log } });
  probe = instance.exports as unknown as ProbeExports;
  memory = probe.memory;
  probe._initialize();
  return probe;
}

/** Runs one probe op; returns the parsed answer (which may carry `error`). */
export function probeCall(op: number, input: unknown): Record<string, unknown> {
  const p = load();
  const bytes = Buffer.from(JSON.stringify(input), 'utf8');
  const ptr = p.alloc(bytes.length);
  new Uint8Array(p.memory.buffer, ptr, bytes.length).set(bytes);
  let len: number;
  try {
    len = p.run(op, ptr, bytes.length);
  } catch (err) {
    throw new Error(`sampling probe trapped: ${lastLog || String(err)}`);
  }
  return JSON.parse(Buffer.from(new Uint8Array(p.memory.buffer, p.output(), len)).toString('utf8')) as Record<
    string,
    unknown
  >;
}
