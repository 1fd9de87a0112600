// Assembles tiny WebAssembly modules from bytes (binary format, core spec §5), so host tests can
// exercise one ABI call at a time and build deliberately broken modules (unknown imports, wrong
// signatures) without a compiler. Only what those tests need: i32/i64 functions, one exported
// memory page, one mutable i32 global (a bump-allocator heap pointer) and active data segments.

type T = 'i32' | 'i64';
const TYPE_BYTE: Record<T, number> = { i32: 0x7f, i64: 0x7e };

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function sleb(n: bigint): number[] {
  const out: number[] = [];
  let v = n;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const str = (s: string) => {
  const b = new TextEncoder().encode(s);
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Instruction encoders (a flat number[] per instruction). */
export const op = {
  i32: (n: number) => [0x41, ...sleb(BigInt(n | 0))],
  i64: (n: bigint) => [0x42, ...sleb(n)],
  call: (index: number) => [0x10, ...uleb(index)],
  drop: [0x1a],
  localGet: (i: number) => [0x20, ...uleb(i)],
  globalGet: (i: number) => [0x23, ...uleb(i)],
  globalSet: (i: number) => [0x24, ...uleb(i)],
  i32Add: [0x6a],
  i32Load: (offset = 0) => [0x28, 0x02, ...uleb(offset)],
  i32Store: (offset = 0) => [0x36, 0x02, ...uleb(offset)],
  unreachable: [0x00],
  i32Shl: [0x74],
  /** memory.grow on memory 0: pops a page count, pushes the old size in pages (or -1). */
  memoryGrow: [0x40, 0x00],
};

export interface FuncSpec {
  export?: string;
  params?: T[];
  results?: T[];
  body?: number[][];
}

export class ModuleBuilder {
  private imports: { module: string; name: string; params: T[]; results: T[] }[] = [];
  private funcList: (Required<Omit<FuncSpec, 'export'>> & { export?: string })[] = [];
  private data: { offset: number; bytes: Uint8Array }[] = [];
  private extraExports: { name: string; func: number }[] = [];

  /** Declares an imported function; returns its function index. Declare all imports first. */
  import(module: string, name: string, params: T[], results: T[] = ['i32']): number {
    if (this.funcList.length) throw new Error('declare imports before functions');
    this.imports.push({ module, name, params, results });
    return this.imports.length - 1;
  }

  func(spec: FuncSpec): number {
    this.funcList.push({
      params: spec.params ?? [],
      results: spec.results ?? [],
      body: spec.body ?? [],
      export: spec.export,
    });
    return this.imports.length + this.funcList.length - 1;
  }

  /** Exports an already-declared function under another name too. */
  exportAs(name: string, func: number): void {
    this.extraExports.push({ name, func });
  }

  dataAt(offset: number, bytes: string | Uint8Array): { ptr: number; len: number } {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    this.data.push({ offset, bytes: b });
    return { ptr: offset, len: b.length };
  }

  build(): Uint8Array {
    const sigs: string[] = [];
    const typeIndex = (params: T[], results: T[]) => {
      const key = `${params.join(',')}>${results.join(',')}`;
      let i = sigs.indexOf(key);
      if (i < 0) {
        sigs.push(key);
        i = sigs.length - 1;
      }
      return i;
    };
    const importEntries = this.imports.map((im) => [
      ...str(im.module),
      ...str(im.name),
      0x00,
      ...uleb(typeIndex(im.params, im.results)),
    ]);
    const funcTypes = this.funcList.map((f) => uleb(typeIndex(f.params, f.results)));
    const types = sigs.map((k) => {
      const [p, r] = k.split('>') as [string, string];
      const ps = p ? (p.split(',') as T[]) : [];
      const rs = r ? (r.split(',') as T[]) : [];
      return [
        0x60,
        ...uleb(ps.length),
        ...ps.map((t) => TYPE_BYTE[t]),
        ...uleb(rs.length),
        ...rs.map((t) => TYPE_BYTE[t]),
      ];
    });
    const exports: number[][] = [[...str('memory'), 0x02, 0x00]];
    this.funcList.forEach((f, i) => {
      if (f.export) exports.push([...str(f.export), 0x00, ...uleb(this.imports.length + i)]);
    });
    for (const e of this.extraExports) exports.push([...str(e.name), 0x00, ...uleb(e.func)]);
    const codes = this.funcList.map((f) => {
      const body = [0x00, ...f.body.flat(), 0x0b]; // no locals beyond params
      return [...uleb(body.length), ...body];
    });
    const datas = this.data.map((d) => [0x00, ...op.i32(d.offset), 0x0b, ...uleb(d.bytes.length), ...d.bytes]);
    const bytes = [
      0x00,
      0x61,
      0x73,
      0x6d,
      0x01,
      0x00,
      0x00,
      0x00,
      ...section(1, vec(types)),
      ...(importEntries.length ? section(2, vec(importEntries)) : []),
      ...section(3, vec(funcTypes)),
      ...section(5, vec([[0x00, 0x01]])), // one memory, min 1 page
      ...section(6, vec([[0x7f, 0x01, ...op.i32(8192), 0x0b]])), // global 0: mut i32 heap = 8192
      ...section(7, vec(exports)),
      ...section(10, vec(codes)),
      ...(datas.length ? section(11, vec(datas)) : []),
    ];
    return Uint8Array.from(bytes);
  }
}

/** Body of a bump allocator over global 0: returns the old heap pointer, advances it by the size. */
export const bumpAllocatorBody = [op.globalGet(0), op.globalGet(0), op.localGet(0), op.i32Add, op.globalSet(0)];

export type GuestHandlers = Record<string, number[][]>;

/**
 * A minimal Proxy-Wasm 0.2.1 guest: ABI marker, memory, a bump-allocating
 * proxy_on_memory_allocate, the given imports (signatures from the host's table) and one body
 * per export in `handlers` (each must leave the export's result on the stack). `setup` receives
 * the import indices and places data; it returns the handlers.
 */
export function proxyGuest(
  importNames: string[],
  setup: (imports: Record<string, number>, b: ModuleBuilder) => GuestHandlers,
  signatures: {
    imports: Record<string, Record<string, { params: string[]; results: string[] }>>;
    exports: Record<string, { params: string[]; results: string[] }>;
  },
): Uint8Array {
  const b = new ModuleBuilder();
  const idx: Record<string, number> = {};
  for (const full of importNames) {
    const [module, name] = full.includes('.') ? (full.split('.') as [string, string]) : ['env', full];
    const s = signatures.imports[module]?.[name];
    if (!s) throw new Error(`no signature for ${module}.${name}`);
    idx[name] = b.import(module, name, s.params as T[], s.results as T[]);
  }
  const handlers = setup(idx, b);
  b.func({ export: 'proxy_abi_version_0_2_1' });
  if (!handlers.proxy_on_memory_allocate) {
    b.func({ export: 'proxy_on_memory_allocate', params: ['i32'], results: ['i32'], body: bumpAllocatorBody });
  }
  const defaults: GuestHandlers = {
    proxy_on_context_create: [],
    proxy_on_vm_start: [op.i32(1)],
    proxy_on_configure: [op.i32(1)],
  };
  for (const [name, body] of Object.entries({ ...defaults, ...handlers })) {
    const s = signatures.exports[name];
    if (!s) throw new Error(`no signature for export ${name}`);
    b.func({ export: name, params: s.params as T[], results: s.results as T[], body });
  }
  return b.build();
}
