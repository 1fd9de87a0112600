// Reads function signatures of a module's imports and exports straight from the binary (type,
// import, function and export sections — WebAssembly core spec §5.5). Node's JS API links any JS
// function to any import type, but Envoy's V8 host compares value types and refuses a mismatch,
// so the host checks signatures itself to fail the same modules Envoy fails.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FuncSig {
  params: ValType[];
  results: ValType[];
}
export interface ModuleSignatures {
  imports: { module: string; name: string; kind: 'function' | 'table' | 'memory' | 'global'; sig?: FuncSig }[];
  exports: Map<string, { kind: 'function' | 'table' | 'memory' | 'global'; sig?: FuncSig }>;
}

const VALTYPES: Record<number, ValType> = {
  127: 'i32',
  126: 'i64',
  125: 'f32',
  124: 'f64',
  123: 'v128',
  112: 'funcref',
  111: 'externref',
};
const KINDS = ['function', 'table', 'memory', 'global'] as const;

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos = 0,
  ) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error(`wasm binary truncated at byte ${this.pos}`);
    return this.bytes[this.pos++] as number;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  name(): string {
    const len = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  valtype(): ValType {
    const b = this.byte();
    const t = VALTYPES[b];
    if (t === undefined) throw new Error(`unknown value type 0x${b.toString(16)} at byte ${this.pos - 1}`);
    return t;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export function readSignatures(bytes: Uint8Array): ModuleSignatures {
  const r = new Reader(bytes, 8); // magic + version
  const types: FuncSig[] = [];
  const imports: ModuleSignatures['imports'] = [];
  const importedFuncTypes: number[] = [];
  const funcTypes: number[] = [];
  const rawExports: { name: string; kind: number; index: number }[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 1) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const form = r.byte();
        if (form !== 0x60) throw new Error(`unsupported type form 0x${form.toString(16)} (GC types are not read)`);
        const params = Array.from({ length: r.u32() }, () => r.valtype());
        const results = Array.from({ length: r.u32() }, () => r.valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const module = r.name();
        const name = r.name();
        const kind = r.byte();
        if (kind === 0) {
          const t = r.u32();
          importedFuncTypes.push(t);
          imports.push({ module, name, kind: 'function', sig: types[t] });
        } else if (kind === 1) {
          r.byte();
          r.limits();
          imports.push({ module, name, kind: 'table' });
        } else if (kind === 2) {
          r.limits();
          imports.push({ module, name, kind: 'memory' });
        } else if (kind === 3) {
          r.valtype();
          r.byte();
          imports.push({ module, name, kind: 'global' });
        } else {
          throw new Error(`unknown import kind ${kind} for ${module}.${name}`);
        }
      }
    } else if (id === 3) {
      const n = r.u32();
      for (let i = 0; i < n; i++) funcTypes.push(r.u32());
    } else if (id === 7) {
      const n = r.u32();
      for (let i = 0; i < n; i++) rawExports.push({ name: r.name(), kind: r.byte(), index: r.u32() });
    }
    r.pos = end;
  }
  const exports: ModuleSignatures['exports'] = new Map();
  for (const e of rawExports) {
    const kind = KINDS[e.kind] ?? 'global';
    if (kind !== 'function') {
      exports.set(e.name, { kind });
      continue;
    }
    const typeIndex =
      e.index < importedFuncTypes.length ? importedFuncTypes[e.index] : funcTypes[e.index - importedFuncTypes.length];
    exports.set(e.name, { kind, sig: typeIndex === undefined ? undefined : types[typeIndex] });
  }
  return { imports, exports };
}

export function sigText(sig: FuncSig | undefined): string {
  if (!sig) return '?';
  return `(${sig.params.join(', ')}) -> (${sig.results.join(', ')})`;
}

export function sameSig(a: FuncSig | undefined, b: FuncSig | undefined): boolean {
  return sigText(a) === sigText(b);
}

/** Shorthand for signature tables: `sig('iii', 'i')` is (i32, i32, i32) -> (i32); 'I' is i64. */
export function sig(params: string, results = ''): FuncSig {
  const t = (c: string): ValType => (c === 'I' ? 'i64' : 'i32');
  return { params: [...params].map(t), results: [...results].map(t) };
}
