// A built Proxy-Wasm filter driven with near-free host functions, to time the guest alone:
// no TS host bookkeeping, no header-map objects — request headers, properties and the plugin
// configuration are pre-serialised bytes handed over through proxy_on_memory_allocate, every
// other import is a constant. The TS host (test/support/proxy-wasm-host/) stays the reference
// for behaviour; this is only a stopwatch for the guest's share of a stream.
import { readFileSync } from 'node:fs';
import { HOST_IMPORTS } from '../../test/support/proxy-wasm-host/signatures.ts';

const enc = new TextEncoder();

/** Proxy-Wasm map serialisation: u32 count, (u32 name len, u32 value len)×n, name\0value\0… */
export function serializePairs(pairs: [string, string][]): Uint8Array {
  const kv = pairs.map(([k, v]) => [enc.encode(k), enc.encode(v)] as const);
  let size = 4 + kv.length * 8;
  for (const [k, v] of kv) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, kv.length, true);
  let p = 4 + kv.length * 8;
  kv.forEach(([k, v], i) => {
    dv.setUint32(4 + i * 8, k.length, true);
    dv.setUint32(8 + i * 8, v.length, true);
    out.set(k, p);
    p += k.length + 1;
    out.set(v, p);
    p += v.length + 1;
  });
  return out;
}

/** A property value as Envoy serialises it: strings as UTF-8, integers as 8 bytes little-endian. */
function propertyBytes(v: string | bigint): Uint8Array {
  if (typeof v === 'string') return enc.encode(v);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

type Export = (...a: number[]) => number;

/**
 * Instantiates `wasmPath`, configures it, and returns a function running `n` whole streams
 * (context create → request headers → response headers → response body → log → done → delete;
 * export calls answered at once with no headers, i.e. a failed call).
 */
export async function bareGuest(
  wasmPath: string,
  configuration: string,
  requestHeaders: [string, string][],
  properties: Record<string, string | bigint> = {},
): Promise<(n: number) => void> {
  const request = serializePairs(requestHeaders);
  const config = enc.encode(configuration);
  // Keyed as the guest sends the path: segments joined with NUL ('request\0method').
  const props = new Map(Object.entries(properties).map(([k, v]) => [k.split('.').join('\0'), propertyBytes(v)]));
  let memory!: WebAssembly.Memory;
  let guest!: Record<string, Export>;
  let xorshift = 0x2545f491;
  let token = 0;
  const pending: number[] = [];
  const give = (data: Uint8Array, ptrOut: number, sizeOut: number) => {
    const p = guest.proxy_on_memory_allocate!(data.length);
    new Uint8Array(memory.buffer).set(data, p);
    const dv = new DataView(memory.buffer);
    dv.setUint32(ptrOut, p, true);
    dv.setUint32(sizeOut, data.length, true);
    return 0;
  };
  const NOT_FOUND = 1;
  const impl: Record<string, (...a: never[]) => unknown> = {
    proxy_get_header_map_pairs: ((map: number, p: number, s: number) =>
      map === 0 ? give(request, p, s) : NOT_FOUND) as never,
    proxy_get_buffer_bytes: ((_t: number, _s: number, _l: number, p: number, s: number) => give(config, p, s)) as never,
    proxy_get_property: ((path: number, len: number, p: number, s: number) => {
      // Keys are ASCII: a char-code string is far cheaper than TextDecoder per call.
      const key = String.fromCharCode(...new Uint8Array(memory.buffer, path, len));
      const v = props.get(key);
      return v === undefined ? NOT_FOUND : give(v, p, s);
    }) as never,
    proxy_get_header_map_value: (() => NOT_FOUND) as never,
    proxy_define_metric: ((_t: number, _p: number, _l: number, out: number) => {
      new DataView(memory.buffer).setUint32(out, 4, true);
      return 0;
    }) as never,
    proxy_http_call: ((...a: number[]) => {
      new DataView(memory.buffer).setUint32(a[9] as number, ++token, true);
      pending.push(token);
      return 0;
    }) as never,
    random_get: ((p: number, n: number) => {
      const u = new Uint8Array(memory.buffer, p, n);
      for (let i = 0; i < n; i++) {
        xorshift ^= xorshift << 13;
        xorshift ^= xorshift >>> 17;
        xorshift ^= xorshift << 5;
        u[i] = xorshift & 0xff;
      }
      return 0;
    }) as never,
    clock_time_get: ((_id: number, _precision: bigint, out: number) => {
      new DataView(memory.buffer).setBigUint64(out, process.hrtime.bigint(), true);
      return 0;
    }) as never,
  };
  const imports: Record<string, Record<string, unknown>> = {};
  for (const [module, fns] of Object.entries(HOST_IMPORTS)) {
    const mod: Record<string, unknown> = {};
    for (const [name, sig] of Object.entries(fns)) {
      mod[name] = impl[name] ?? (sig.results.length === 0 ? () => {} : () => 0);
    }
    imports[module] = mod;
  }
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), imports as WebAssembly.Imports);
  guest = instance.exports as unknown as Record<string, Export>;
  memory = instance.exports.memory as WebAssembly.Memory;
  guest._initialize?.();
  guest.proxy_on_context_create?.(1, 0);
  guest.proxy_on_vm_start?.(1, 0);
  if (guest.proxy_on_configure && !guest.proxy_on_configure(1, config.length)) {
    throw new Error(`${wasmPath} refused its configuration ${configuration}`);
  }
  let id = 2;
  return (n: number) => {
    for (let i = 0; i < n; i++) {
      const s = id++;
      guest.proxy_on_context_create?.(s, 1);
      guest.proxy_on_request_headers?.(s, requestHeaders.length, 1);
      guest.proxy_on_response_headers?.(s, 2, 0);
      guest.proxy_on_response_body?.(s, 2, 1);
      guest.proxy_on_log?.(s);
      guest.proxy_on_done?.(s);
      guest.proxy_on_delete?.(s);
      while (pending.length > 0) guest.proxy_on_http_call_response?.(1, pending.pop() as number, 0, 0, 0);
    }
  };
}
